/*
 * signals.c - a program's signals, with and without libsesscache_preload.so: both runs must
 * print the same transcript.
 *
 * With SESSCACHE_STATS set, the preload's statistics writer puts itself in front of SIGTERM and
 * SIGINT once the process has made a handshake, to write the file before the program's own
 * disposition runs. The program must not be able to tell: the default action still ends the
 * process by the signal, an ignored signal stays ignored, a handler installed before or after
 * gets the kernel's siginfo, its mask and its flags (SA_RESTART or not, SA_RESETHAND), a
 * blocked signal stays pending for sigwait, and a forked child behaves the same.
 *
 * Each scenario runs in a child process of its own: 3 handshakes, then (with the preload) a
 * wait until the writer has chained itself, 2 more handshakes, then the signal; the parent
 * prints how it ended. With argv[1], each scenario's process appends "NAME PID LAST ACCEPTS" to
 * that file, for scripts/test.d/preload-stats.sh: its statistics file must count ACCEPTS
 * handshakes (all of them), and LAST says how it was last written: "signal" (ended by the default action: reason=signal
 * and exited 1), "exit" (reason=exit, exited 1), "none" (the process ended in a way nothing
 * can see, _exit or SA_RESETHAND's default action: exited 0, yet the 2 late handshakes are
 * there because the signal was seen first) or "nofile" (a child that inherited its parent's
 * counters and made no connection: it writes no file).
 *
 * Build: cc -Wall -Wextra -Werror -pthread -Ic_tests signals.c -lssl -lcrypto
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define OSSLUTIL_TLS
#include "osslutil.h"

static const char *manifest;

static void note(const char *name, const char *last, int accepts)
{
    FILE *f;

    if (manifest == NULL)
        return;
    f = fopen(manifest, "a");
    if (f == NULL)
        die("manifest");
    fprintf(f, "%s %d %s %d\n", name, (int)getpid(), last, accepts);
    fclose(f);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* --- in-memory TLS 1.2 handshakes: a full one, then resumptions ---------------------------- */
static SSL_CTX *sctx, *cctx;

static void make_ctxs(void)
{
    EVP_PKEY *key;
    X509 *cert;

    make_cert_for("signals", &key, &cert);
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    if (sctx == NULL || cctx == NULL || !SSL_CTX_use_certificate(sctx, cert) || !SSL_CTX_use_PrivateKey(sctx, key)
        || !SSL_CTX_set_max_proto_version(sctx, TLS1_2_VERSION))
        die("SSL_CTX_new");
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* n connections, each resuming the session of the one before; prints how many were resumed. */
static void handshakes(int n)
{
    SSL_SESSION *sess = NULL;
    int i, k, reused = 0;

    if (sctx == NULL)
        make_ctxs();
    for (i = 0; i < n; i++) {
        SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
        int cst = 0, sst = 0;

        if (c == NULL || s == NULL)
            die("SSL_new");
        attach_bios(c);
        attach_bios(s);
        SSL_set_connect_state(c);
        SSL_set_accept_state(s);
        if (sess != NULL)
            SSL_set_session(c, sess);
        for (k = 0; k < 50 && (cst == 0 || sst == 0); k++) {
            if (cst == 0)
                cst = step(c);
            pump(c, s);
            if (sst == 0)
                sst = step(s);
            pump(s, c);
        }
        if (cst != 1 || sst != 1)
            die("handshake");
        reused += SSL_session_reused(s);
        SSL_SESSION_free(sess);
        sess = SSL_get1_session(c);
        SSL_shutdown(c);
        pump(c, s);
        SSL_shutdown(s);
        SSL_free(c);
        SSL_free(s);
    }
    SSL_SESSION_free(sess);
    say("  %d handshakes, %d resumed\n", n, reused);
}

/* 3 handshakes; with the preload writing statistics, a wait (at most 5 s) until its writer
 * has put itself in front of `sig` (the handler is no longer the one the program set); then 2
 * more handshakes, which only a write at the signal can have counted. Prints nothing of the
 * wait, so both transcripts are the same. */
static void handshakes_then_wait(int sig)
{
    struct sigaction mine, cur;
    int i;

    if (sigaction(sig, NULL, &mine) != 0)
        die("sigaction");
    handshakes(3);
    if (getenv("SESSCACHE_STATS") != NULL && mine.sa_handler != SIG_IGN) {
        for (i = 0; i < 500; i++) {
            if (sigaction(sig, NULL, &cur) == 0 && cur.sa_sigaction != mine.sa_sigaction)
                break;
            sleep_ms(10);
        }
        if (i == 500)
            say("  (the preload did not chain signal %d)\n", sig);
    }
    handshakes(2);
}

/* --- what the program's handlers saw -------------------------------------------------------- */
static volatile sig_atomic_t calls, seen_signo, seen_code, seen_value, seen_pid_ok, usr1_blocked, self_blocked;

static void on_info(int sig, siginfo_t *info, void *uc)
{
    sigset_t cur;

    (void)uc;
    calls++;
    seen_signo = info->si_signo;
    seen_code = info->si_code;
    seen_value = info->si_code == SI_QUEUE ? info->si_value.sival_int : -1;
    seen_pid_ok = info->si_pid == getpid();
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr1_blocked = sigismember(&cur, SIGUSR1);
    self_blocked = sigismember(&cur, sig);
}

static void on_plain(int sig)
{
    (void)sig;
    calls++;
}

static void on_exit3(int sig)
{
    (void)sig;
    _exit(3);
}

static void set_info_handler(int sig, int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    if (sigaction(sig, &sa, NULL) != 0)
        die("sigaction");
}

static void set_plain_handler(int sig, void (*h)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        die("sigaction");
}

static void queue_self(int sig, int value)
{
    union sigval v;

    v.sival_int = value;
    if (sigqueue(getpid(), sig, v) != 0)
        die("sigqueue");
}

static void print_info(const char *who)
{
    say("  %s: %d call(s), signo=%d code=%s value=%d from self=%d, SIGUSR1 blocked=%d, signal blocked=%d\n", who,
        (int)calls, (int)seen_signo, seen_code == SI_QUEUE ? "SI_QUEUE" : seen_code == SI_USER ? "SI_USER" : "other",
        (int)seen_value, (int)seen_pid_ok, (int)usr1_blocked, (int)self_blocked);
}

/* --- scenarios (each in its own process) ---------------------------------------------------- */
static void sc_default_term(void)
{
    note("default-term", "signal", 5);
    signal(SIGTERM, SIG_DFL);
    handshakes_then_wait(SIGTERM);
    kill(getpid(), SIGTERM);
    sleep_ms(5000);
    say("  not reached\n");
}

static void sc_default_int(void)
{
    note("default-int", "signal", 5);
    signal(SIGINT, SIG_DFL);
    handshakes_then_wait(SIGINT);
    kill(getpid(), SIGINT);
    sleep_ms(5000);
    say("  not reached\n");
}

static void sc_ignored(void)
{
    note("ignored", "exit", 5);
    signal(SIGTERM, SIG_IGN);
    handshakes_then_wait(SIGTERM);
    kill(getpid(), SIGTERM);
    sleep_ms(100);
    say("  still running after SIGTERM\n");
    exit(0);
}

static void sc_handler_before(void)
{
    note("handler-before", "exit", 5);
    set_info_handler(SIGTERM, SA_RESTART);
    handshakes_then_wait(SIGTERM);
    queue_self(SIGTERM, 42);
    print_info("handler");
    exit(0);
}

static void sc_handler_after(void)
{
    note("handler-after", "exit", 5);
    signal(SIGTERM, SIG_DFL);
    handshakes_then_wait(SIGTERM);
    set_info_handler(SIGTERM, 0);
    queue_self(SIGTERM, 7);
    print_info("handler");
    exit(0);
}

static void sc_resethand(void)
{
    note("resethand", "none", 5);
    set_plain_handler(SIGTERM, on_plain, SA_RESETHAND);
    handshakes_then_wait(SIGTERM);
    kill(getpid(), SIGTERM);
    say("  handler ran %d time(s); SIGTERM again\n", (int)calls);
    kill(getpid(), SIGTERM);
    sleep_ms(5000);
    say("  not reached\n");
}

static pthread_t main_thread;
static int pipe_fds[2];

static void *interrupter(void *arg)
{
    (void)arg;
    sleep_ms(100);
    pthread_kill(main_thread, SIGTERM);
    sleep_ms(300);
    if (write(pipe_fds[1], "x", 1) != 1)
        die("write");
    return NULL;
}

static void interrupted_read(const char *name, int flags)
{
    pthread_t t;
    char b;
    ssize_t r;

    note(name, "exit", 5);
    set_plain_handler(SIGTERM, on_plain, flags);
    handshakes_then_wait(SIGTERM);
    if (pipe(pipe_fds) != 0)
        die("pipe");
    main_thread = pthread_self();
    if (pthread_create(&t, NULL, interrupter, NULL) != 0)
        die("pthread_create");
    r = read(pipe_fds[0], &b, 1);
    say("  read returned %zd%s; handler ran %d time(s)\n", r, r < 0 && errno == EINTR ? " (EINTR)" : "", (int)calls);
    pthread_join(t, NULL);
    exit(0);
}

static void sc_restart(void)
{
    interrupted_read("restart", SA_RESTART);
}

static void sc_no_restart(void)
{
    interrupted_read("no-restart", 0);
}

static void sc_blocked(void)
{
    sigset_t set, pending;
    int sig = 0;

    note("blocked", "exit", 5);
    signal(SIGTERM, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    handshakes_then_wait(SIGTERM);
    kill(getpid(), SIGTERM);
    sleep_ms(200);
    sigpending(&pending);
    say("  SIGTERM pending: %d\n", sigismember(&pending, SIGTERM));
    if (sigwait(&set, &sig) != 0)
        die("sigwait");
    say("  sigwait returned %d\n", sig);
    exit(0);
}

static void sc_exit_in_handler(void)
{
    note("exit-in-handler", "none", 5);
    set_plain_handler(SIGTERM, on_exit3, 0);
    handshakes_then_wait(SIGTERM);
    kill(getpid(), SIGTERM);
    sleep_ms(5000);
    say("  not reached\n");
}

static void report(const char *who, int status)
{
    if (WIFSIGNALED(status))
        say("  %s killed by signal %d (%s)\n", who, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        say("  %s exited with status %d\n", who, WEXITSTATUS(status));
}

static void sc_fork(void)
{
    pid_t child;
    int status;

    note("fork-parent", "exit", 7);
    signal(SIGTERM, SIG_DFL);
    handshakes_then_wait(SIGTERM);
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        note("fork-child", "signal", 7);
        handshakes(2);
        kill(getpid(), SIGTERM);
        sleep_ms(5000);
        _exit(1);
    }
    if (waitpid(child, &status, 0) != child)
        die("waitpid");
    report("child", status);
    handshakes(2);
    exit(0);
}

/* A helper forked after the handshakes that exits without TLS (socat's SYSTEM:, a CGI): its
 * counters are the parent's, but it made no connection, so it writes no file of its own. */
static void sc_fork_idle(void)
{
    pid_t child;
    int status;

    note("fork-idle-parent", "exit", 3);
    handshakes(3);
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        note("fork-idle-child", "nofile", 0);
        exit(0);
    }
    if (waitpid(child, &status, 0) != child)
        die("waitpid");
    report("child", status);
    exit(0);
}

static const struct {
    const char *name;
    void (*run)(void);
} scenarios[] = {
    { "SIGTERM, default action", sc_default_term },
    { "SIGINT, default action", sc_default_int },
    { "SIGTERM ignored", sc_ignored },
    { "SA_SIGINFO handler with sa_mask, installed before the first handshake", sc_handler_before },
    { "SA_SIGINFO handler installed after the first handshake", sc_handler_after },
    { "SA_RESETHAND handler", sc_resethand },
    { "SA_RESTART handler interrupts a read", sc_restart },
    { "handler without SA_RESTART interrupts a read", sc_no_restart },
    { "SIGTERM blocked, then taken by sigwait", sc_blocked },
    { "handler that calls _exit(3)", sc_exit_in_handler },
    { "fork after the first handshake, the child gets SIGTERM", sc_fork },
    { "fork after the handshakes, the child exits without TLS", sc_fork_idle },
};

int main(int argc, char **argv)
{
    size_t i;

    manifest = argc > 1 ? argv[1] : NULL;
    for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        pid_t pid;
        int status;

        say("== %s\n", scenarios[i].name);
        pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            alarm(30);
            scenarios[i].run();
            _exit(0);
        }
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid");
        report("process", status);
    }
    return 0;
}
