/*
 * testutil.h - tiny check harness shared by the c_tests/test_*.c programs.
 *
 * Each check prints one line, "ok - <what>" or "not ok - <what> (<file>:<line>: <detail>)";
 * tu_done() adds the leak check (no SSL_SESSION alive), prints the count line
 * "# <program>: N checks, M failed" and returns the exit status (0 only if every check held).
 * A watchdog (alarm) turns a deadlock into a failing exit instead of a hung `make test`.
 */
#ifndef SESSCACHE_TESTUTIL_H
#define SESSCACHE_TESTUTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sesscache.h"

static int tu_checks;
static int tu_failed;
static const char *tu_name = "test";

static inline void tu_vreport(int ok, const char *file, int line, const char *detail, const char *fmt, va_list ap)
{
    printf("%s - ", ok ? "ok" : "not ok");
    vprintf(fmt, ap);
    if (!ok)
        printf(" (%s:%d%s%s)", file, line, detail[0] ? ": " : "", detail);
    printf("\n");
    fflush(stdout);
    tu_checks++;
    if (!ok)
        tu_failed++;
}

__attribute__((format(printf, 4, 5))) static inline int tu_check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tu_vreport(ok, file, line, "", fmt, ap);
    va_end(ap);
    return ok;
}

__attribute__((format(printf, 5, 6))) static inline int tu_check_eq(long got, long want, const char *file, int line,
                                                              const char *fmt, ...)
{
    char detail[96];
    va_list ap;

    snprintf(detail, sizeof(detail), "got %ld, want %ld", got, want);
    va_start(ap, fmt);
    tu_vreport(got == want, file, line, detail, fmt, ap);
    va_end(ap);
    return got == want;
}

/* CHECK(cond, "what", ...) and CHECK_EQ(got, want, "what", ...): both return the verdict. */
#define CHECK(cond, ...) tu_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(got, want, ...) tu_check_eq((long)(got), (long)(want), __FILE__, __LINE__, __VA_ARGS__)

static inline void tu_watchdog(int sig)
{
    static const char msg[] = "not ok - watchdog: the program did not finish in time (deadlock?)\n";

    (void)sig;
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to do */
    }
    _exit(3);
}

/* Starts the program: its name for the count line and a watchdog of `seconds`. */
static inline void tu_begin(const char *name, unsigned seconds)
{
    tu_name = name;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, tu_watchdog);
    alarm(seconds);
}

static inline void tu_section(const char *title)
{
    printf("# %s\n", title);
}

/* The final leak check and the count line; returns the exit status. */
static inline int tu_done(void)
{
    CHECK_EQ(sesscache_live_sessions(), 0, "no SSL_SESSION alive at the end of %s", tu_name);
    printf("# %s: %d checks, %d failed\n", tu_name, tu_checks, tu_failed);
    return tu_failed == 0 ? 0 : 1;
}

/* ---- sessions and contexts ---- */

/* `len` bytes of `fill` as a session id. */
static inline void tu_id(unsigned char *buf, unsigned char fill, unsigned len)
{
    memset(buf, fill, len);
}

/* A session with `len` bytes of `fill` as id, TLS 1.2, the given time and timeout. */
static inline SSL_SESSION *tu_sess(unsigned char fill, unsigned len, long t, long timeout)
{
    unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    SSL_SESSION *s = SSL_SESSION_new();

    tu_id(id, fill, len);
    if (s == NULL || !SSL_SESSION_set1_id(s, id, len) || !SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION)
        || !SSL_SESSION_set_timeout(s, timeout)) {
        fprintf(stderr, "fatal: cannot build a session\n");
        exit(2);
    }
    SSL_SESSION_set_time(s, t);
    return s;
}

/* The first byte of a session's id (sessions made by tu_sess are named by it), -1 if empty. */
static inline int tu_tag(const SSL_SESSION *s)
{
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &len);

    return (id == NULL || len == 0) ? -1 : id[0];
}

static inline unsigned tu_id_len(const SSL_SESSION *s)
{
    unsigned int len = 0;

    SSL_SESSION_get_id(s, &len);
    return len;
}

static inline SSL_CTX *tu_ctx(const SSL_METHOD *m, long mode)
{
    SSL_CTX *ctx = SSL_CTX_new(m);

    if (ctx == NULL) {
        fprintf(stderr, "fatal: SSL_CTX_new\n");
        exit(2);
    }
    SSL_CTX_set_session_cache_mode(ctx, mode);
    return ctx;
}

static inline SSL *tu_ssl(SSL_CTX *ctx, int server)
{
    SSL *s = SSL_new(ctx);

    if (s == NULL) {
        fprintf(stderr, "fatal: SSL_new\n");
        exit(2);
    }
    if (server)
        SSL_set_accept_state(s);
    else
        SSL_set_connect_state(s);
    return s;
}

/* The server counters of a context, in one line for a single check. */
struct tu_stats {
    long number, accept, accept_good, hits, misses, cb_hits, timeouts, cache_full;
};

static inline struct tu_stats tu_server_stats(SSL_CTX *c)
{
    struct tu_stats s;

    s.number = SSL_CTX_sess_number(c);
    s.accept = SSL_CTX_sess_accept(c);
    s.accept_good = SSL_CTX_sess_accept_good(c);
    s.hits = SSL_CTX_sess_hits(c);
    s.misses = SSL_CTX_sess_misses(c);
    s.cb_hits = SSL_CTX_sess_cb_hits(c);
    s.timeouts = SSL_CTX_sess_timeouts(c);
    s.cache_full = SSL_CTX_sess_cache_full(c);
    return s;
}

#define TU_STATS_FMT "number=%ld accept=%ld accept_good=%ld hits=%ld misses=%ld cb_hits=%ld timeouts=%ld cache_full=%ld"
#define TU_STATS_ARGS(s) \
    (s).number, (s).accept, (s).accept_good, (s).hits, (s).misses, (s).cb_hits, (s).timeouts, (s).cache_full

/* One check that the server counters of `c` are exactly `want`. */
#define CHECK_STATS(c, want, what)                                                                              \
    do {                                                                                                        \
        struct tu_stats got_ = tu_server_stats(c), want_ = want;                                                \
        char d_[256];                                                                                           \
        snprintf(d_, sizeof(d_), "got " TU_STATS_FMT, TU_STATS_ARGS(got_));                                     \
        CHECK(memcmp(&got_, &want_, sizeof(got_)) == 0, "%s: server " TU_STATS_FMT "%s%s", what,                \
              TU_STATS_ARGS(want_), memcmp(&got_, &want_, sizeof(got_)) == 0 ? "" : " -- ",                     \
              memcmp(&got_, &want_, sizeof(got_)) == 0 ? "" : d_);                                              \
    } while (0)

/* Compound literal for CHECK_STATS. */
#define STATS(num, acc, acc_good, hit, miss, cbhit, tmo, full) \
    ((struct tu_stats){ (num), (acc), (acc_good), (hit), (miss), (cbhit), (tmo), (full) })

#endif /* SESSCACHE_TESTUTIL_H */
