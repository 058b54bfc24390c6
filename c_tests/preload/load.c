/*
 * load.c - concurrent handshakes against one TLS server, over TCP on 127.0.0.1, run with and
 * without libsesscache_preload.so.
 *
 * One server context (internal cache, SSL_OP_NO_TICKET: TLS 1.2 session ids and TLS 1.3
 * stateful tickets) served by 4 threads; 4 client threads make HANDSHAKES handshakes in all,
 * two on TLS 1.2 and two on TLS 1.3, each resuming its latest session. stdout: one summary line
 * (reuse and the server's counters) that must not depend on the preload; then the number of
 * SSL_SESSION objects still alive after everything was freed (counted through ex_data), which
 * must be 0. Exit status 0 when every handshake succeeded and nothing leaked.
 *
 * Usage: load [HANDSHAKES]   (default 2000)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OSSLUTIL_TLS 1
#include "../osslutil.h"

#define CLIENTS 4
#define SERVERS 4

static int total, per_client;
static int lfd;
static struct sockaddr_in addr;
static SSL_CTX *sctx;
static long reused_total, failed_total, served_total;

static void make_server_ctx(void)
{
    EVP_PKEY *key;
    X509 *cert;

    make_cert_for("load", &key, &cert);
    sctx = SSL_CTX_new(TLS_server_method());
    if (sctx == NULL || SSL_CTX_use_certificate(sctx, cert) != 1 || SSL_CTX_use_PrivateKey(sctx, key) != 1
        || !SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"load", 4))
        die("server ctx");
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* No Nagle: handshake flights are small writes, and delayed ACKs would stall every one. */
static void nodelay(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void *server_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        SSL *s;
        unsigned char b;

        if (fd < 0)
            return NULL; /* the listening socket was shut down */
        nodelay(fd);
        s = SSL_new(sctx);
        if (s == NULL || !SSL_set_fd(s, fd))
            die("server SSL");
        if (SSL_accept(s) == 1 && SSL_read(s, &b, 1) == 1 && SSL_write(s, &b, 1) == 1)
            __atomic_add_fetch(&served_total, 1, __ATOMIC_RELAXED);
        SSL_shutdown(s);
        SSL_free(s);
        close(fd);
        ERR_clear_error();
    }
}

static void *client_thread(void *arg)
{
    long id = (long)arg;
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_SESSION *sess = NULL;
    int i;

    if (cctx == NULL || !SSL_CTX_set_max_proto_version(cctx, id < 2 ? TLS1_2_VERSION : TLS1_3_VERSION)
        || !SSL_CTX_set_min_proto_version(cctx, id < 2 ? TLS1_2_VERSION : TLS1_3_VERSION))
        die("client ctx");
    for (i = 0; i < per_client; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        SSL *c = SSL_new(cctx);
        unsigned char b = 'x';
        int ok = 0;

        if (fd < 0 || c == NULL || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || !SSL_set_fd(c, fd))
            die("connect");
        nodelay(fd);
        if (sess != NULL)
            SSL_set_session(c, sess);
        /* The byte back from the server comes after its TLS 1.3 tickets, so SSL_read reads them. */
        if (SSL_connect(c) == 1 && SSL_write(c, &b, 1) == 1 && SSL_read(c, &b, 1) == 1)
            ok = 1;
        if (!ok)
            __atomic_add_fetch(&failed_total, 1, __ATOMIC_RELAXED);
        if (ok && SSL_session_reused(c))
            __atomic_add_fetch(&reused_total, 1, __ATOMIC_RELAXED);
        SSL_SESSION_free(sess);
        sess = SSL_get1_session(c);
        SSL_shutdown(c);
        SSL_free(c);
        close(fd);
        ERR_clear_error();
    }
    SSL_SESSION_free(sess);
    SSL_CTX_free(cctx);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t st[SERVERS], ct[CLIENTS];
    socklen_t alen = sizeof(addr);
    long i;

    total = argc > 1 ? atoi(argv[1]) : 2000;
    per_client = total / CLIENTS;
    count_live_sessions();
    make_server_ctx();
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 64) != 0
        || getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0)
        die("listen");
    for (i = 0; i < SERVERS; i++)
        pthread_create(&st[i], NULL, server_thread, NULL);
    for (i = 0; i < CLIENTS; i++)
        pthread_create(&ct[i], NULL, client_thread, (void *)i);
    for (i = 0; i < CLIENTS; i++)
        pthread_join(ct[i], NULL);
    shutdown(lfd, SHUT_RDWR);
    for (i = 0; i < SERVERS; i++)
        pthread_join(st[i], NULL);
    close(lfd);

    printf("handshakes=%d served=%ld failed=%ld reused=%ld number=%ld accept=%ld accept_good=%ld hits=%ld misses=%ld"
           " cb_hits=%ld timeouts=%ld cache_full=%ld\n",
           per_client * CLIENTS, served_total, failed_total, reused_total, SSL_CTX_sess_number(sctx),
           SSL_CTX_sess_accept(sctx), SSL_CTX_sess_accept_good(sctx), SSL_CTX_sess_hits(sctx),
           SSL_CTX_sess_misses(sctx), SSL_CTX_sess_cb_hits(sctx), SSL_CTX_sess_timeouts(sctx),
           SSL_CTX_sess_cache_full(sctx));
    SSL_CTX_free(sctx);
    printf("live sessions after free: %ld\n", live_sessions);
    return failed_total == 0 && served_total == per_client * CLIENTS && live_sessions == 0 ? 0 : 1;
}
