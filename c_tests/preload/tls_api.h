/* In-memory TLS between a server and a client context of one libssl (or of two), through a
 * table of libssl's functions, so that the same scenarios run against a libssl linked at start
 * (the table holds the linked functions) and against copies opened with dlopen (the table
 * holds what dlsym found in each). Prints one transcript line per scenario on stdout: whether
 * each connection was new or resumed, whether early data was accepted, and the server's
 * session statistics read through SSL_CTX_ctrl. Every loop is bounded. (c_tests/osslutil.h's
 * TLS helpers call libssl directly: these go through the table so that the same code runs
 * against copies of libssl opened with dlopen.) */
#ifndef TLS_API_H
#define TLS_API_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_FUNCS(X)                                                                        \
    X(TLS_method) X(SSL_CTX_new) X(SSL_CTX_new_ex) X(SSL_CTX_free) X(SSL_CTX_ctrl)          \
    X(SSL_CTX_use_certificate_file) X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_set_options)  \
    X(SSL_CTX_set_max_early_data) X(SSL_CTX_get_timeout) X(SSL_CTX_sess_set_new_cb)        \
    X(SSL_new) X(SSL_free) X(SSL_set_bio) X(SSL_set_accept_state) X(SSL_set_connect_state) \
    X(SSL_do_handshake) X(SSL_get_error) X(SSL_read) X(SSL_write) X(SSL_shutdown)          \
    X(SSL_set_session) X(SSL_get1_session) X(SSL_session_reused) X(SSL_SESSION_free)       \
    X(SSL_write_early_data) X(SSL_read_early_data) X(SSL_get_early_data_status)            \
    X(BIO_new_bio_pair) X(ERR_get_error) X(ERR_error_string_n)

typedef struct {
#define API_FIELD(f) __typeof__(f) *f;
    API_FUNCS(API_FIELD)
#undef API_FIELD
} Api;

/* Fills `a` with the functions this program is linked with (through the PLT: the preload's,
 * where it defines them). */
#define API_LINKED(a) do { API_FUNCS(API_LINK_ONE) } while (0)
#define API_LINK_ONE(f) (a)->f = f;

static inline void tls_fail(Api *a, const char *what)
{
    char buf[256] = "";
    unsigned long e = a->ERR_get_error();
    if (e)
        a->ERR_error_string_n(e, buf, sizeof buf);
    printf("FAIL %s %s\n", what, buf);
    fflush(stdout);
    exit(1);
}

/* A server context for `version` (0: up to TLS 1.3) with the certificate and key, made with
 * SSL_CTX_new_ex (clients use SSL_CTX_new, which calls it inside libssl). */
static inline SSL_CTX *tls_server_ctx(Api *a, const char *cert, const char *key, long version, long mode)
{
    SSL_CTX *s = a->SSL_CTX_new_ex(NULL, NULL, a->TLS_method());
    if (s == NULL)
        tls_fail(a, "server SSL_CTX_new");
    if (a->SSL_CTX_use_certificate_file(s, cert, SSL_FILETYPE_PEM) != 1 ||
        a->SSL_CTX_use_PrivateKey_file(s, key, SSL_FILETYPE_PEM) != 1)
        tls_fail(a, "server certificate");
    if (version != 0)
        a->SSL_CTX_ctrl(s, SSL_CTRL_SET_MAX_PROTO_VERSION, version, NULL);
    if (mode >= 0)
        a->SSL_CTX_ctrl(s, SSL_CTRL_SET_SESS_CACHE_MODE, mode, NULL);
    return s;
}

static inline SSL_CTX *tls_client_ctx(Api *a, long version)
{
    SSL_CTX *c = a->SSL_CTX_new(a->TLS_method());
    if (c == NULL)
        tls_fail(a, "client SSL_CTX_new");
    if (version != 0)
        a->SSL_CTX_ctrl(c, SSL_CTRL_SET_MAX_PROTO_VERSION, version, NULL);
    return c;
}

/* Drives both ends until both handshakes are done. */
static inline void tls_pump(Api *sa, SSL *s, Api *ca, SSL *c)
{
    int sd = 0, cd = 0;
    for (int i = 0; i < 200 && !(sd && cd); i++) {
        if (!cd) {
            int r = ca->SSL_do_handshake(c);
            int e = r == 1 ? SSL_ERROR_NONE : ca->SSL_get_error(c, r);
            if (r == 1)
                cd = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                tls_fail(ca, "client handshake");
        }
        if (!sd) {
            int r = sa->SSL_do_handshake(s);
            int e = r == 1 ? SSL_ERROR_NONE : sa->SSL_get_error(s, r);
            if (r == 1)
                sd = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                tls_fail(sa, "server handshake");
        }
    }
    if (!(sd && cd))
        tls_fail(sa, "handshake did not finish");
}

/* One connection from `cctx` (of `ca`) to `sctx` (of `sa`), offering `in` if not NULL and then
 * `early` as early data. Returns 1 when it was a resumption, 0 for a full handshake; stores
 * the client's session in `*out` and the server's early-data status in `*early_status`. The
 * byte the server writes after the handshake carries TLS 1.3's tickets to the client. */
static inline int tls_connect(Api *sa, SSL_CTX *sctx, Api *ca, SSL_CTX *cctx, SSL_SESSION *in, const char *early,
                       SSL_SESSION **out, int *early_status)
{
    SSL *s = sa->SSL_new(sctx), *c = ca->SSL_new(cctx);
    BIO *bs = NULL, *bc = NULL;
    char buf[64];
    if (s == NULL || c == NULL)
        tls_fail(sa, "SSL_new");
    if (sa->BIO_new_bio_pair(&bs, 0, &bc, 0) != 1)
        tls_fail(sa, "BIO_new_bio_pair");
    sa->SSL_set_bio(s, bs, bs);
    ca->SSL_set_bio(c, bc, bc);
    sa->SSL_set_accept_state(s);
    ca->SSL_set_connect_state(c);
    if (in != NULL && ca->SSL_set_session(c, in) != 1)
        tls_fail(ca, "SSL_set_session");
    if (early != NULL) {
        size_t w = 0, r = 0;
        if (ca->SSL_write_early_data(c, early, strlen(early), &w) != 1)
            tls_fail(ca, "SSL_write_early_data");
        for (int i = 0; i < 100; i++) {
            int rc = sa->SSL_read_early_data(s, buf, sizeof buf, &r);
            if (rc == SSL_READ_EARLY_DATA_FINISH)
                break;
            if (rc == SSL_READ_EARLY_DATA_ERROR && sa->SSL_get_error(s, 0) != SSL_ERROR_WANT_READ)
                tls_fail(sa, "SSL_read_early_data");
            ca->SSL_do_handshake(c);
        }
    }
    tls_pump(sa, s, ca, c);
    if (sa->SSL_write(s, "x", 1) != 1)
        tls_fail(sa, "server write");
    int got = 0;
    for (int i = 0; i < 20 && got == 0; i++) {
        int r = ca->SSL_read(c, buf, 1);
        if (r == 1)
            got = 1;
        else if (ca->SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
            tls_fail(ca, "client read");
    }
    if (!got)
        tls_fail(ca, "client read did not finish");
    int reused = ca->SSL_session_reused(c);
    if (sa->SSL_session_reused(s) != reused)
        tls_fail(sa, "client and server disagree on resumption");
    if (early_status != NULL)
        *early_status = sa->SSL_get_early_data_status(s);
    if (out != NULL)
        *out = ca->SSL_get1_session(c);
    /* A clean close on both ends, so that freeing keeps the session cached. */
    ca->SSL_shutdown(c);
    sa->SSL_shutdown(s);
    ca->SSL_free(c);
    sa->SSL_free(s);
    return reused;
}

static inline const char *tls_word(int reused) { return reused ? "reused" : "new"; }

/* Whether the transcript shows the server's statistics (not for a program whose calls bind
 * straight to libssl: under the preload it reads libssl's own, empty, view). */
static int tls_show_stats = 1;

/* The server's statistics, as the program reads them. */
static inline void tls_stats(Api *a, SSL_CTX *s, char *out, size_t n)
{
    if (!tls_show_stats) {
        snprintf(out, n, "(statistics not shown)");
        return;
    }
    snprintf(out, n, "number=%ld hits=%ld misses=%ld accept=%ld accept_good=%ld cb_hits=%ld timeouts=%ld mode=0x%lx",
             a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_NUMBER, 0, NULL), a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_HIT, 0, NULL),
             a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_MISSES, 0, NULL), a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_ACCEPT, 0, NULL),
             a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_ACCEPT_GOOD, 0, NULL), a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_CB_HIT, 0, NULL),
             a->SSL_CTX_ctrl(s, SSL_CTRL_SESS_TIMEOUTS, 0, NULL), a->SSL_CTX_ctrl(s, SSL_CTRL_GET_SESS_CACHE_MODE, 0, NULL));
}

static inline const char *tls_early_word(int status)
{
    return status == SSL_EARLY_DATA_ACCEPTED ? "accepted" : status == SSL_EARLY_DATA_REJECTED ? "rejected" : "none";
}

/* A full handshake, then a resumption, from a client of `ca` to the server `s` of `sa`; prints
 * one line with the server's statistics and frees both contexts. */
static inline void tls_resume(const char *tag, const char *what, Api *sa, SSL_CTX *s, Api *ca, SSL_CTX *c)
{
    SSL_SESSION *sess = NULL;
    char st[256];
    int first = tls_connect(sa, s, ca, c, NULL, NULL, &sess, NULL);
    int second = tls_connect(sa, s, ca, c, sess, NULL, NULL, NULL);
    tls_stats(sa, s, st, sizeof st);
    printf("[%s] %s: first=%s second=%s %s\n", tag, what, tls_word(first), tls_word(second), st);
    ca->SSL_SESSION_free(sess);
    ca->SSL_CTX_free(c);
    sa->SSL_CTX_free(s);
}

/* TLS 1.2 with session ids (no tickets), to a server whose cache mode is `mode` (-1: the
 * default). */
static inline void tls_scenario12(const char *tag, Api *sa, Api *ca, const char *cert, const char *key, long mode)
{
    SSL_CTX *s = tls_server_ctx(sa, cert, key, TLS1_2_VERSION, mode);
    sa->SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    tls_resume(tag, "tls1.2", sa, s, ca, tls_client_ctx(ca, TLS1_2_VERSION));
}

/* TLS 1.3 with stateful tickets (SSL_OP_NO_TICKET on the server: the session is in its cache). */
static inline void tls_scenario13(const char *tag, Api *sa, Api *ca, const char *cert, const char *key)
{
    SSL_CTX *s = tls_server_ctx(sa, cert, key, 0, -1);
    sa->SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    tls_resume(tag, "tls1.3 stateful", sa, s, ca, tls_client_ctx(ca, 0));
}

/* TLS 1.3 early data with anti-replay: the server accepts early data once per ticket (its
 * cache lookup removes the session: SSL_CTX_remove_session inside libssl), and rejects the
 * replay of the same ticket. */
static inline void tls_scenario_early(const char *tag, Api *sa, Api *ca, const char *cert, const char *key)
{
    SSL_CTX *s = tls_server_ctx(sa, cert, key, 0, -1), *c = tls_client_ctx(ca, 0);
    SSL_SESSION *sess = NULL;
    char st[256];
    int e1 = 0, e2 = 0;
    sa->SSL_CTX_set_max_early_data(s, 1024);
    int first = tls_connect(sa, s, ca, c, NULL, NULL, &sess, NULL);
    int second = tls_connect(sa, s, ca, c, sess, "early", NULL, &e1);
    int replay = tls_connect(sa, s, ca, c, sess, "early", NULL, &e2);
    tls_stats(sa, s, st, sizeof st);
    printf("[%s] tls1.3 early data: first=%s second=%s early=%s replay=%s replay_early=%s %s\n", tag, tls_word(first),
           tls_word(second), tls_early_word(e1), tls_word(replay), tls_early_word(e2), st);
    ca->SSL_SESSION_free(sess);
    ca->SSL_CTX_free(c);
    sa->SSL_CTX_free(s);
}

/* Every scenario, server and client on `a`. */
static inline void tls_scenarios(const char *tag, Api *a, const char *cert, const char *key)
{
    tls_scenario12(tag, a, a, cert, key, -1);
    tls_scenario13(tag, a, a, cert, key);
    tls_scenario_early(tag, a, a, cert, key);
}

#endif
