/*
 * test_threads.c - 4 threads on one server SSL_CTX (and one client SSL_CTX) for a bounded
 * number of operations: add, lookup, remove, flush, has_matching, driver handshakes, with a
 * new_cb, a remove_cb (that re-enters the API) and a get_cb installed. Afterwards: the
 * counters add up, the bounded cache holds at most size - 1 sessions (size while an add is
 * between its insert and its eviction), every session
 * passed to remove_cb was already not resumable, and every session is released.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"

#define THREADS 4
#define OPS 3000
#define CACHE_SIZE 8
#define KEEP 32

static SSL_CTX *sctx, *cctx;
static atomic_long n_new, n_remove, n_remove_resumable, n_get, over_capacity, max_seen;

static void see_number(void)
{
    long n = SSL_CTX_sess_number(sctx), m = atomic_load(&max_seen);

    /* While an add runs, its new entry is counted before the eviction makes room (as in
     * OpenSSL, which reads the count without a lock): a concurrent reader may see `size`. */
    if (n > CACHE_SIZE)
        atomic_fetch_add(&over_capacity, 1);
    while (n > m && !atomic_compare_exchange_weak(&max_seen, &m, n)) {
    }
}

struct worker {
    int id;
    unsigned rng;
    SSL_SESSION *kept[KEEP]; /* references kept by new_cb (returning 1) */
    int n_kept;
    long handshakes, completed, resumed, removes;
};

static __thread struct worker *self;

static unsigned rnd(struct worker *w)
{
    w->rng = w->rng * 1103515245u + 12345u;
    return (w->rng >> 16) & 0x7fff;
}

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    atomic_fetch_add(&n_new, 1);
    if (self != NULL && self->n_kept < KEEP && (rnd(self) & 1)) {
        self->kept[self->n_kept++] = sess;
        return 1;
    }
    return 0;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    atomic_fetch_add(&n_remove, 1);
    if (SSL_SESSION_is_resumable(sess))
        atomic_fetch_add(&n_remove_resumable, 1);
    if (ctx == sctx)
        see_number(); /* re-enters while other threads mutate the cache */
}

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    (void)id;
    (void)len;
    (void)copy;
    atomic_fetch_add(&n_get, 1);
    return NULL;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    SSL_SESSION *mine[8] = { 0 };
    SSL_SESSION *client = NULL;
    SSL *probe = tu_ssl(sctx, 1);
    int i;

    self = w;
    sesscache_handshake_start(probe); /* TLS 1.2, for has_matching and lookups */
    for (i = 0; i < OPS; i++) {
        unsigned op = rnd(w) % 8, k = rnd(w) % 8;
        unsigned char id[32];

        id[0] = (unsigned char)w->id;
        memset(id + 1, (int)k, sizeof(id) - 1);
        switch (op) {
        case 0: /* add a session of this thread, sometimes already expired */
            SSL_SESSION_free(mine[k]);
            mine[k] = SSL_SESSION_new();
            SSL_SESSION_set1_id(mine[k], id, sizeof(id));
            SSL_SESSION_set_protocol_version(mine[k], TLS1_2_VERSION);
            SSL_SESSION_set_time(mine[k], (long)time(NULL) - (long)(rnd(w) % 2) * 1000);
            SSL_SESSION_set_timeout(mine[k], 500);
            SSL_CTX_add_session(sctx, mine[k]);
            break;
        case 1: /* lookup through the step functions (may resume, miss or time out) */
            if (sesscache_server_lookup(probe, id, sizeof(id)) == 1)
                w->resumed++;
            break;
        case 2: /* explicit remove */
            if (mine[k] != NULL) {
                SSL_CTX_remove_session(sctx, mine[k]);
                w->removes++;
            }
            break;
        case 3: /* flush the expired ones, rarely everything */
            SSL_CTX_flush_sessions(sctx, (rnd(w) % 64) == 0 ? 0 : (long)time(NULL));
            break;
        case 4:
            SSL_has_matching_session_id(probe, id, sizeof(id));
            see_number();
            break;
        default: { /* a driver handshake, sometimes resuming the last client session */
            SSL *c = tu_ssl(cctx, 0), *s = tu_ssl(sctx, 1);

            if (client != NULL && (rnd(w) & 3) == 0)
                SSL_set_session(c, client);
            w->handshakes++;
            if (sesscache_handshake(c, s)) {
                w->completed++;
                w->resumed += SSL_session_reused(s);
            }
            SSL_SESSION_free(client);
            client = SSL_get1_session(c);
            SSL_free(c);
            SSL_free(s);
            break;
        }
        }
    }
    for (i = 0; i < 8; i++)
        SSL_SESSION_free(mine[i]);
    SSL_SESSION_free(client);
    SSL_free(probe);
    self = NULL;
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    struct worker w[THREADS];
    long handshakes = 0, completed = 0, before_free;
    int i, j, started = 1;

    tu_begin("test_threads", 120);
    sctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
    cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_cache_size(sctx, CACHE_SIZE);
    SSL_CTX_sess_set_new_cb(sctx, new_cb);
    SSL_CTX_sess_set_remove_cb(sctx, remove_cb);
    SSL_CTX_sess_set_get_cb(sctx, get_cb);
    SSL_CTX_sess_set_new_cb(cctx, new_cb);
    SSL_CTX_sess_set_remove_cb(cctx, remove_cb);
    memset(w, 0, sizeof(w));
    for (i = 0; i < THREADS; i++) {
        w[i].id = i + 1;
        w[i].rng = 0x9e3779b9u * (unsigned)(i + 1);
        started &= pthread_create(&th[i], NULL, work, &w[i]) == 0;
    }
    CHECK(started, "threads: %d workers started, %d operations each", THREADS, OPS);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < THREADS; i++) {
        handshakes += w[i].handshakes;
        completed += w[i].completed;
    }
    see_number();
    CHECK_EQ(atomic_load(&over_capacity), 0, "threads: sess_number never exceeded size = %d while adds ran (max seen %ld)",
             CACHE_SIZE, atomic_load(&max_seen));
    CHECK(SSL_CTX_sess_number(sctx) <= CACHE_SIZE - 1, "threads: the final number %ld <= %d",
          SSL_CTX_sess_number(sctx), CACHE_SIZE - 1);
    CHECK(handshakes > 0 && completed == handshakes, "threads: every driver handshake completed (%ld)", handshakes);
    CHECK(SSL_CTX_sess_accept(sctx) == handshakes + THREADS && SSL_CTX_sess_accept_good(sctx) == completed,
          "threads: accept=%ld (handshakes + one probe per thread) accept_good=%ld match the handshakes", SSL_CTX_sess_accept(sctx),
          SSL_CTX_sess_accept_good(sctx));
    CHECK(SSL_CTX_sess_connect(cctx) == handshakes && SSL_CTX_sess_connect_good(cctx) == completed,
          "threads: connect=%ld connect_good=%ld match the handshakes", SSL_CTX_sess_connect(cctx),
          SSL_CTX_sess_connect_good(cctx));
    CHECK(SSL_CTX_sess_hits(sctx) > 0 && SSL_CTX_sess_misses(sctx) > 0 && SSL_CTX_sess_cache_full(sctx) > 0
              && SSL_CTX_sess_timeouts(sctx) > 0,
          "threads: hits, misses, evictions and timeouts all happened (hits=%ld misses=%ld full=%ld timeouts=%ld)",
          SSL_CTX_sess_hits(sctx), SSL_CTX_sess_misses(sctx), SSL_CTX_sess_cache_full(sctx),
          SSL_CTX_sess_timeouts(sctx));
    CHECK_EQ(SSL_CTX_sess_cb_hits(sctx), 0, "threads: get_cb never supplied a session");
    CHECK(atomic_load(&n_get) >= SSL_CTX_sess_misses(sctx),
          "threads: get_cb ran after every failed internal lookup (get=%ld misses=%ld)", atomic_load(&n_get),
          SSL_CTX_sess_misses(sctx));
    CHECK_EQ(atomic_load(&n_remove_resumable), 0, "threads: remove_cb never saw a resumable session");
    CHECK(atomic_load(&n_remove) >= SSL_CTX_sess_cache_full(sctx) + SSL_CTX_sess_timeouts(sctx),
          "threads: remove_cb count %ld covers evictions + timeouts", atomic_load(&n_remove));
    before_free = atomic_load(&n_remove);
    {
        long left = SSL_CTX_sess_number(sctx) + SSL_CTX_sess_number(cctx);

        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
        CHECK_EQ(atomic_load(&n_remove) - before_free, left, "threads: SSL_CTX_free removes the %ld left", left);
    }
    for (i = 0; i < THREADS; i++)
        for (j = 0; j < w[i].n_kept; j++)
            SSL_SESSION_free(w[i].kept[j]);
    return tu_done();
}
