/*
 * external_cache.c: sessions kept in the application's own store, not in sesscache's.
 *
 * With SSL_SESS_CACHE_NO_INTERNAL_STORE the server caches nothing itself: the new-session
 * callback hands each session to the application, the get-session callback looks returning
 * clients up there, and the remove-session callback hears about sessions to forget. A table
 * of 64 slots stands in for memcached or Redis. Exits 1 when something does not add up.
 *
 * Build: cc -Iinclude examples/external_cache.c -Ltarget/release -lsesscache
 *    or: cc examples/external_cache.c $(pkg-config --cflags --libs sesscache)
 */
#include <sesscache.h>
#include <stdio.h>
#include <string.h>

#define CLIENTS 8
#define SLOTS 64

static int failures;
#define EXPECT(c) \
    do { if (!(c)) { fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static SSL_SESSION *store[SLOTS]; /* each slot holds one reference */
static long stored, looked_up, removed;

static SSL_SESSION **slot(const unsigned char *id, unsigned len)
{
    for (int i = 0; i < SLOTS; i++) {
        unsigned l;
        const unsigned char *sid = store[i] ? SSL_SESSION_get_id(store[i], &l) : NULL;
        if (sid != NULL && l == len && memcmp(sid, id, len) == 0)
            return &store[i];
    }
    return NULL;
}

/* The library passes a reference: return 1 to keep it, 0 to let the library drop it. */
static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    for (int i = 0; i < SLOTS; i++)
        if (store[i] == NULL) {
            store[i] = sess;
            stored++;
            return 1;
        }
    return 0; /* store full */
}

/* Lend the stored session: *copy stays 1, so the library takes its own reference. */
static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    SSL_SESSION **s = slot(id, (unsigned)len);
    (void)ssl;
    (void)copy;
    looked_up++;
    return s ? *s : NULL;
}

/* A session is no longer valid (e.g. SSL_CTX_remove_session): drop it from the store. */
static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    unsigned len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    SSL_SESSION **s = slot(id, len);
    (void)ctx;
    removed++;
    if (s != NULL) {
        SSL_SESSION_free(*s);
        *s = NULL;
    }
}

int main(void)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
    SSL_SESSION *saved[CLIENTS];
    int resumed = 0;

    SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"example", 7);
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(sctx, new_cb);
    SSL_CTX_sess_set_get_cb(sctx, get_cb);
    SSL_CTX_sess_set_remove_cb(sctx, remove_cb);

    for (int round = 0; round < 2; round++)
        for (int i = 0; i < CLIENTS; i++) {
            SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
            if (round == 1)
                SSL_set_session(c, saved[i]); /* the client offers its session */
            EXPECT(sesscache_handshake(c, s) == 1);
            if (round == 0)
                saved[i] = SSL_get1_session(c); /* get1: the client keeps a reference */
            else
                resumed += SSL_session_reused(s);
            SSL_free(c);
            SSL_free(s);
        }
    printf("store: %ld sessions stored, %ld lookups, %d of %d clients resumed\n", stored, looked_up,
           resumed, CLIENTS);
    printf("server: internal cache holds %ld, hits=%ld cb_hits=%ld misses=%ld\n", SSL_CTX_sess_number(sctx),
           SSL_CTX_sess_hits(sctx), SSL_CTX_sess_cb_hits(sctx), SSL_CTX_sess_misses(sctx));
    EXPECT(stored == CLIENTS && resumed == CLIENTS && looked_up == CLIENTS);
    EXPECT(SSL_CTX_sess_number(sctx) == 0 && SSL_CTX_sess_cb_hits(sctx) == CLIENTS);

    /* Revoking a session reaches the external store through remove_cb. */
    {
        unsigned len;
        const unsigned char *id = SSL_SESSION_get_id(saved[0], &len);
        SSL_CTX_remove_session(sctx, saved[0]);
        EXPECT(removed == 1 && slot(id, len) == NULL);
    }

    for (int i = 0; i < CLIENTS; i++)
        SSL_SESSION_free(saved[i]);
    for (int i = 0; i < SLOTS; i++)
        SSL_SESSION_free(store[i]); /* free(NULL) does nothing */
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    EXPECT(sesscache_live_sessions() == 0);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
