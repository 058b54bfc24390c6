/*
 * demo.c: a TLS server's session cache, driven without TLS.
 *
 * 1. Internal cache: 1000 clients connect, then each comes back and resumes.
 * 2. External cache: the same with SSL_SESS_CACHE_NO_INTERNAL_STORE, the sessions kept by
 *    the application's own new/get/remove callbacks (a stand-in for Redis or memcached).
 * It prints sesscache's counters after each phase and the cache-path throughput.
 *
 * Build: cc -Iinclude examples/demo.c -Ltarget/release -lsesscache   (or `make demo`)
 */
#include <sesscache.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLIENTS 1000

/* ---- a tiny external store: open addressing on the session id ---- */
#define SLOTS 4096
static SSL_SESSION *store[SLOTS];
static long ext_new, ext_get, ext_get_found, ext_remove;

static unsigned slot_of(const unsigned char *id, unsigned len)
{
    unsigned h = 2166136261u;
    for (unsigned i = 0; i < len; i++)
        h = (h ^ id[i]) * 16777619u;
    return h % SLOTS;
}

static int find_slot(const unsigned char *id, unsigned len, int for_insert)
{
    unsigned i = slot_of(id, len);
    for (unsigned n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS) {
        unsigned l;
        const unsigned char *sid;
        if (store[i] == NULL)
            return for_insert ? (int)i : -1;
        sid = SSL_SESSION_get_id(store[i], &l);
        if (l == len && memcmp(sid, id, len) == 0)
            return (int)i;
    }
    return -1;
}

/* new_cb: keep the reference the library hands over (return 1). */
static int ext_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    unsigned len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    int i = find_slot(id, len, 1);
    (void)ssl;
    ext_new++;
    if (i < 0)
        return 0; /* store full: give the reference back */
    if (store[i] != NULL)
        SSL_SESSION_free(store[i]);
    store[i] = sess;
    return 1;
}

/* get_cb: lend the stored session (*copy stays 1, the library takes its own reference). */
static SSL_SESSION *ext_get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    int i = find_slot(id, (unsigned)len, 0);
    (void)ssl;
    (void)copy;
    ext_get++;
    if (i < 0)
        return NULL;
    ext_get_found++;
    return store[i];
}

static void ext_remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    (void)ctx;
    (void)sess;
    ext_remove++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void counters(const char *title, SSL_CTX *ctx)
{
    printf("  %-28s number=%ld accept=%ld accept_good=%ld hits=%ld misses=%ld cb_hits=%ld "
           "timeouts=%ld cache_full=%ld\n",
           title, SSL_CTX_sess_number(ctx), SSL_CTX_sess_accept(ctx), SSL_CTX_sess_accept_good(ctx),
           SSL_CTX_sess_hits(ctx), SSL_CTX_sess_misses(ctx), SSL_CTX_sess_cb_hits(ctx),
           SSL_CTX_sess_timeouts(ctx), SSL_CTX_sess_cache_full(ctx));
}

/* Every client makes a full handshake, keeps its session, and comes back to resume it. */
static void run_clients(SSL_CTX *sctx, SSL_CTX *cctx)
{
    static SSL_SESSION *saved[CLIENTS];
    int resumed = 0;
    double t0 = now_s();
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < CLIENTS; i++) {
            SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
            if (round == 1 && !SSL_set_session(c, saved[i]))
                exit(1);
            if (!sesscache_handshake(c, s)) {
                fprintf(stderr, "handshake failed\n");
                exit(1);
            }
            if (round == 0)
                saved[i] = SSL_get1_session(c);
            else
                resumed += SSL_session_reused(c);
            SSL_free(c);
            SSL_free(s);
        }
        counters(round == 0 ? "after 1000 full handshakes:" : "after 1000 returning clients:", sctx);
    }
    printf("  %d of %d returning clients resumed; %.0f handshakes/s through the cache path\n", resumed,
           CLIENTS, 2.0 * CLIENTS / (now_s() - t0));
    for (int i = 0; i < CLIENTS; i++)
        SSL_SESSION_free(saved[i]);
}

int main(void)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX *sctx;

    printf("sesscache %s demo: a server's session cache, driven without TLS\n\n", sesscache_version());

    printf("1. internal cache (mode SERVER, size 20480)\n");
    sctx = SSL_CTX_new(TLS_server_method());
    if (!SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"demo", 4))
        return 1;
    run_clients(sctx, cctx);
    SSL_CTX_free(sctx);

    printf("\n2. external cache (mode SERVER|NO_INTERNAL_STORE, sessions in the application's store)\n");
    sctx = SSL_CTX_new(TLS_server_method());
    if (!SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"demo", 4))
        return 1;
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(sctx, ext_new_cb);
    SSL_CTX_sess_set_get_cb(sctx, ext_get_cb);
    SSL_CTX_sess_set_remove_cb(sctx, ext_remove_cb);
    run_clients(sctx, cctx);
    printf("  external store: new_cb=%ld get_cb=%ld (found %ld) remove_cb=%ld\n", ext_new, ext_get,
           ext_get_found, ext_remove);
    SSL_CTX_free(sctx);
    for (int i = 0; i < SLOTS; i++)
        SSL_SESSION_free(store[i]);

    SSL_CTX_free(cctx);
    return 0;
}
