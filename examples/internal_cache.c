/*
 * internal_cache.c: a TLS server with sesscache's internal session cache.
 *
 * The server drives its side of each TLS 1.2 session-ID handshake with the sesscache_ step
 * functions (a TLS engine would call them from its ClientHello and Finished handling):
 * new clients get a full handshake and a cached session, returning clients resume, and
 * expired sessions are flushed. Exits 1 when the cache does not behave as described.
 *
 * Build: cc -Iinclude examples/internal_cache.c -Ltarget/release -lsesscache
 *    or: cc examples/internal_cache.c $(pkg-config --cflags --libs sesscache)
 */
#include <sesscache.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CLIENTS 5

static int failures;
#define EXPECT(c) \
    do { if (!(c)) { fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

/* One server handshake for a ClientHello that offers `id` (`len` 0: nothing to resume).
 * Returns 1 when the session was resumed, 0 after a full handshake, -1 on failure; copies the
 * id of the session the client now holds to `out`. */
static int serve(SSL_CTX *ctx, const unsigned char *id, unsigned len, unsigned char out[32], unsigned *out_len)
{
    SSL *ssl = SSL_new(ctx); /* a server connection: TLS_server_method() */
    const unsigned char *sid;
    int r;

    sesscache_handshake_start(ssl);
    r = sesscache_server_lookup(ssl, id, len);              /* 1: resume, 0: full, -1: fail */
    if (r == 0 && !sesscache_server_new_session(ssl))
        r = -1;
    if (r >= 0)
        sesscache_handshake_done(ssl);                      /* caches a new session */
    *out_len = 0;
    sid = SSL_SESSION_get_id(SSL_get_session(ssl), out_len); /* get0: borrowed from ssl */
    if (sid != NULL)
        memcpy(out, sid, *out_len);
    SSL_free(ssl);
    return r;
}

int main(void)
{
    unsigned char ids[CLIENTS][32], id[32];
    unsigned lens[CLIENTS], len;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method()); /* mode SSL_SESS_CACHE_SERVER */

    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"example", 7);

    for (int i = 0; i < CLIENTS; i++) /* first visits: full handshakes */
        EXPECT(serve(ctx, NULL, 0, ids[i], &lens[i]) == 0 && lens[i] == 32);
    printf("after %d new clients:       cached=%ld misses=%ld hits=%ld\n", CLIENTS,
           SSL_CTX_sess_number(ctx), SSL_CTX_sess_misses(ctx), SSL_CTX_sess_hits(ctx));
    EXPECT(SSL_CTX_sess_number(ctx) == CLIENTS);

    for (int i = 0; i < CLIENTS; i++) { /* second visits: resumed from the cache */
        EXPECT(serve(ctx, ids[i], lens[i], id, &len) == 1);
        EXPECT(len == lens[i] && memcmp(id, ids[i], len) == 0);
    }
    EXPECT(serve(ctx, (const unsigned char *)"an id this server never issued", 30, id, &len) == 0);
    printf("after %d returning clients: cached=%ld misses=%ld hits=%ld\n", CLIENTS,
           SSL_CTX_sess_number(ctx), SSL_CTX_sess_misses(ctx), SSL_CTX_sess_hits(ctx));
    EXPECT(SSL_CTX_sess_hits(ctx) == CLIENTS && SSL_CTX_sess_misses(ctx) == 1);

    /* Flush what has expired by a time past every session's timeout (7200 s by default). */
    SSL_CTX_flush_sessions(ctx, (long)time(NULL) + SSL_CTX_get_timeout(ctx) + 1);
    EXPECT(SSL_CTX_sess_number(ctx) == 0);
    EXPECT(serve(ctx, ids[0], lens[0], id, &len) == 0); /* flushed: a full handshake again */
    printf("after a flush:              cached=%ld misses=%ld hits=%ld\n", SSL_CTX_sess_number(ctx),
           SSL_CTX_sess_misses(ctx), SSL_CTX_sess_hits(ctx));

    SSL_CTX_free(ctx);
    EXPECT(sesscache_live_sessions() == 0);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
