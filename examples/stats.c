/*
 * stats.c: per-context session-cache statistics.
 *
 * Each SSL_CTX counts its own handshakes, hits, misses, timeouts and evictions. Two server
 * contexts (say, two virtual hosts) see different traffic; the program prints every counter of
 * each, read through the functions and through SSL_CTX_ctrl (OpenSSL's macros expand to the
 * latter), and exits 1 when the two readings or the expected values disagree.
 *
 * Build: cc -Iinclude examples/stats.c -Ltarget/release -lsesscache
 *    or: cc examples/stats.c $(pkg-config --cflags --libs sesscache)
 */
#include <sesscache.h>
#include <stdio.h>

static int failures;
#define EXPECT(c) \
    do { if (!(c)) { fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static const struct {
    const char *name;
    long (*get)(SSL_CTX *);
    int cmd;
} counters[] = {
    {"number", SSL_CTX_sess_number, SSL_CTRL_SESS_NUMBER},
    {"connect", SSL_CTX_sess_connect, SSL_CTRL_SESS_CONNECT},
    {"connect_good", SSL_CTX_sess_connect_good, SSL_CTRL_SESS_CONNECT_GOOD},
    {"connect_renegotiate", SSL_CTX_sess_connect_renegotiate, SSL_CTRL_SESS_CONNECT_RENEGOTIATE},
    {"accept", SSL_CTX_sess_accept, SSL_CTRL_SESS_ACCEPT},
    {"accept_good", SSL_CTX_sess_accept_good, SSL_CTRL_SESS_ACCEPT_GOOD},
    {"accept_renegotiate", SSL_CTX_sess_accept_renegotiate, SSL_CTRL_SESS_ACCEPT_RENEGOTIATE},
    {"hits", SSL_CTX_sess_hits, SSL_CTRL_SESS_HIT},
    {"cb_hits", SSL_CTX_sess_cb_hits, SSL_CTRL_SESS_CB_HIT},
    {"misses", SSL_CTX_sess_misses, SSL_CTRL_SESS_MISSES},
    {"timeouts", SSL_CTX_sess_timeouts, SSL_CTRL_SESS_TIMEOUTS},
    {"cache_full", SSL_CTX_sess_cache_full, SSL_CTRL_SESS_CACHE_FULL},
};
#define NCOUNTERS (sizeof counters / sizeof counters[0])

/* `n` clients connect to `sctx` once, then come back `returns` times each. */
static void traffic(SSL_CTX *sctx, SSL_CTX *cctx, int n, int returns)
{
    for (int i = 0; i < n; i++) {
        SSL_SESSION *sess = NULL;
        for (int visit = 0; visit <= returns; visit++) {
            SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
            SSL_set_session(c, sess);
            EXPECT(sesscache_handshake(c, s) == 1);
            SSL_SESSION_free(sess);
            sess = SSL_get1_session(c);
            SSL_free(c);
            SSL_free(s);
        }
        SSL_SESSION_free(sess);
    }
}

int main(void)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX *www = SSL_CTX_new(TLS_server_method()), *api = SSL_CTX_new(TLS_server_method());
    SSL_SESSION *old = SSL_SESSION_new();
    SSL *s;

    SSL_CTX_set_session_id_context(www, (const unsigned char *)"www", 3);
    SSL_CTX_set_session_id_context(api, (const unsigned char *)"api", 3);
    SSL_CTX_sess_set_cache_size(api, 4); /* a small cache: evictions show in cache_full */

    traffic(www, cctx, 10, 3); /* 10 clients, each resumes 3 times */
    traffic(api, cctx, 20, 0); /* 20 one-off clients */

    /* A client offering a session the api host cached long ago: found, but expired. */
    SSL_SESSION_set1_id(old, (const unsigned char *)"0123456789abcdef0123456789abcdef", 32);
    SSL_SESSION_set_protocol_version(old, TLS1_2_VERSION);
    SSL_SESSION_set1_id_context(old, (const unsigned char *)"api", 3);
    SSL_SESSION_set_time(old, 1000000000L); /* 2001 */
    SSL_CTX_add_session(api, old);
    s = SSL_new(api);
    sesscache_handshake_start(s);
    EXPECT(sesscache_server_lookup(s, (const unsigned char *)"0123456789abcdef0123456789abcdef", 32) == 0);
    SSL_free(s);
    SSL_SESSION_free(old);

    printf("%-20s %8s %8s\n", "counter", "www", "api");
    for (size_t i = 0; i < NCOUNTERS; i++) {
        long w = counters[i].get(www), a = counters[i].get(api);
        printf("%-20s %8ld %8ld\n", counters[i].name, w, a);
        EXPECT(w == SSL_CTX_ctrl(www, counters[i].cmd, 0, NULL));
        EXPECT(a == SSL_CTX_ctrl(api, counters[i].cmd, 0, NULL));
    }
    EXPECT(SSL_CTX_sess_accept_good(www) == 40 && SSL_CTX_sess_hits(www) == 30);
    EXPECT(SSL_CTX_sess_accept(api) == 21 && SSL_CTX_sess_hits(api) == 0);
    EXPECT(SSL_CTX_sess_timeouts(api) == 1 && SSL_CTX_sess_timeouts(www) == 0);
    EXPECT(SSL_CTX_sess_cache_full(api) > 0 && SSL_CTX_sess_cache_full(www) == 0);
    EXPECT(SSL_CTX_sess_number(api) < 4);

    SSL_CTX_free(www);
    SSL_CTX_free(api);
    SSL_CTX_free(cctx);
    EXPECT(sesscache_live_sessions() == 0);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
