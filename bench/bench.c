/*
 * bench.c - session-cache benchmark, built twice from this one source:
 *
 *   -DBENCH_OPENSSL  linked with -lssl -lcrypto   (system OpenSSL 3.0)
 *   (default)        linked with -lsesscache      (this project)
 *
 * Both builds compile against the SYSTEM <openssl/ssl.h>. Every workload
 * goes through the public session-cache API, except "handshake", which uses
 * the sesscache_* driver functions (sesscache build) or an equivalent-cost
 * emulation through OpenSSL's public API (OpenSSL build).
 *
 * The harness (options, ids, sessions, the counted library calls) is in
 * harness.c; this file holds the workloads.
 *
 * Output: one machine-readable line per figure on stdout,
 *   RESULT workload=<w> threads=<t> value=<v> unit=<u> [key=value ...]
 * plus human-readable '#' lines on stderr. bench/report.py combines the
 * output of both builds into a table, a CSV file and an SVG chart.
 *
 * Usage: bench [--sessions N] [--threads 1,2] [--seconds S] [--reps R]
 *              [--layout server|nginx|pooled] [--callbacks 1]
 *              [--only fill,lookup,resume,churn,mixed,flush,handshake]
 *
 * --layout says where sessions land in the heap (bench/layout.h): by default
 * each is created right before its add, between the allocations of a
 * handshake, as in a server; "pooled" creates every session of a round
 * before adding any (dense, and kind to the caches of a lookup).
 *
 * --only churn-split (never run by default) is a diagnostic: the churn
 * workload with one context per thread, so that nothing of the cache is
 * shared between threads; it shows the ceiling that the allocator and the
 * memory system leave to a shared cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#ifdef BENCH_OPENSSL
#include <openssl/rand.h>
#endif

#include "harness.h"
#include "layout.h"

/* ------------------------------------------------------------------ */
/* fill                                                                 */

static void bench_fill(void)
{
    size_t n = opt_sessions, i;
    double best = 0;
    long mem_per = -1;
    int rep;
    for (rep = 0; rep < opt_reps; rep++) {
        SSL_CTX *ctx = new_ctx((long)(2 * n));
        int ver = fresh_ssl_version(ctx);
        long rss0 = rss_bytes(), rss1, held0 = (long)noise_held(g_noise);
        double t0, t1;
        if (opt_layout == LAYOUT_POOLED) {
            /* Sessions made first, then only the adds are timed. */
            SSL_SESSION **ss = xmalloc(n * sizeof(*ss));
            for (i = 0; i < n; i++)
                ss[i] = new_session(ver, g_t0, NULL);
            t0 = now_s();
            for (i = 0; i < n; i++)
                if (!SSL_CTX_add_session(ctx, ss[i]))
                    die("fill: SSL_CTX_add_session returned 0");
            t1 = now_s();
            for (i = 0; i < n; i++)
                SSL_SESSION_free(ss[i]);
            free(ss);
        } else {
            /* Each session made amid a handshake's allocations and cached at once; the
             * library's calls are timed, session creation included. */
            int64_t busy = 0;
            for (i = 0; i < n; i++)
                if (!handshake_add(ctx, g_noise, ver, g_t0, g_seq++, NULL, &busy, NULL))
                    die("fill: SSL_CTX_add_session returned 0");
            t0 = 0;
            t1 = (double)busy * g_tick_s;
        }
        if ((size_t)SSL_CTX_sess_number(ctx) != n)
            die("fill: sess_number != N after fill");
        /* What the harness itself still holds (open connections) is not the cache's. */
        rss1 = rss_bytes() - ((long)noise_held(g_noise) - held0);
        if (rep == 0) /* later reps reuse freed heap, so only rep 0 counts */
            mem_per = (rss1 - rss0) / (long)n;
        if ((double)n / (t1 - t0) > best)
            best = (double)n / (t1 - t0);
        SSL_CTX_free(ctx);
    }
    result("fill", 1, best, "adds/s", NULL);
    result("memory", 1, (double)mem_per, "bytes/session", NULL);
    fprintf(stderr, "# fill: %.0f adds/s, %ld resident bytes per cached session (N=%zu)\n",
            best, mem_per, n);
    if (opt_layout != LAYOUT_POOLED) {
        /* The harness's own share of each timed add: its allocations alone. */
        double t0 = now_s(), ns;
        for (i = 0; i < n; i++) {
            noise_before(g_noise);
            noise_middle(g_noise);
            noise_after(g_noise);
        }
        ns = (now_s() - t0) * 1e9 / (double)n;
        result("harness", 1, ns, "ns/handshake", NULL);
        fprintf(stderr, "# harness: %.0f ns per handshake for its allocations alone\n", ns);
    }
}

/* ------------------------------------------------------------------ */
/* flush                                                                */

static void bench_flush(void)
{
    size_t n = opt_sessions, n_exp = n / 10;
    double best = 1e30;
    int rep;
    for (rep = 0; rep < opt_reps; rep++) {
        SSL_CTX *ctx = new_ctx((long)(2 * n));
        int ver = fresh_ssl_version(ctx);
        long before, after;
        double t0, t1;
        /* Expired ones first: with OpenSSL's expiry-ordered list, adding
         * them after fresh ones would walk the list on every insert. */
        populate(ctx, n_exp, ver, g_t0 - 10 * SESS_TIMEOUT, NULL, NULL);
        populate(ctx, n - n_exp, ver, g_t0, NULL, NULL);
        before = SSL_CTX_sess_number(ctx);
        if ((size_t)before != n)
            die("flush: sess_number != N before flush");
        t0 = now_s();
        SSL_CTX_flush_sessions(ctx, (long)time(NULL));
        t1 = now_s();
        after = SSL_CTX_sess_number(ctx);
        if ((size_t)(before - after) != n_exp) {
            fprintf(stderr, "flush: removed %ld, expected %zu\n", before - after, n_exp);
            die("flush: wrong number of sessions removed");
        }
        if ((t1 - t0) * 1e3 < best)
            best = (t1 - t0) * 1e3;
        SSL_CTX_free(ctx);
    }
    result("flush", 1, best, "ms", NULL);
    fprintf(stderr, "# flush: %.3f ms to remove %zu expired of %zu\n", best, n_exp, n);
}

/* ------------------------------------------------------------------ */
/* threaded workloads                                                   */

enum kind { K_LOOKUP, K_RESUME, K_CHURN, K_CHURN_SPLIT, K_MIXED, K_HANDSHAKE };

typedef struct worker {
    pthread_t th;
    int tid;
    struct run *run;
    SSL_CTX *own_ctx; /* churn-split: this thread's own context */
    SSL *ssl;
    uint64_t rng;
    /* sessions to add this round (churn, mixed): pre-created in the pooled layout; in the
     * server layouts each is made right before its add (ids from seq), where the session it
     * evicts was freed, as in a server at capacity */
    SSL_SESSION **pool;
    unsigned char *pool_ids;
    size_t pool_n;
    uint64_t seq;
    /* ring of ids this thread knows to be recently cached (mixed, handshake) */
    unsigned char *ring;
    size_t ring_cap, ring_len, ring_pos;
    /* counters */
    uint64_t ops, hits, misses, adds, unexpected;
    double t0, t1;
    long accepts;
    char pad[64];
} worker_t;

typedef struct run {
    enum kind kind;
    SSL_CTX *ctx;
    int nthreads;
    int stop;
    pthread_barrier_t start, done;
    const unsigned char *ids; /* lookup: all cached ids */
    SSL_SESSION **sess;       /* resume: the cached sessions, by id (no reference held) */
    size_t nids;
    int hs_version;
    worker_t *w;
} run_t;

static inline void ring_push(worker_t *w, const unsigned char *id)
{
    memcpy(w->ring + w->ring_pos * ID_LEN, id, ID_LEN);
    if (++w->ring_pos == w->ring_cap)
        w->ring_pos = 0;
    if (w->ring_len < w->ring_cap)
        w->ring_len++;
}

static inline const unsigned char *ring_pick(worker_t *w)
{
    return w->ring + rng_below(&w->rng, w->ring_len) * ID_LEN;
}

/* A timed loop's end: its interval and what it counted. */
static void worker_record(worker_t *w, double t0, double t1, uint64_t ops, uint64_t hits)
{
    w->t0 = t0;
    w->t1 = t1;
    w->ops += ops;
    w->hits += hits;
}

static void work_lookup(worker_t *w)
{
    run_t *r = w->run;
    SSL *ssl = w->ssl;
    uint64_t ops = 0, hits = 0;
    double t0 = now_s(), t1 = t0;
    for (;;) {
        int k;
        for (k = 0; k < 1024; k++) {
            const unsigned char *id = r->ids + rng_below(&w->rng, r->nids) * ID_LEN;
            hits += (uint64_t)(lib_lookup(ssl, id) == 1);
        }
        ops += 1024;
        t1 = now_s();
        if (t1 - t0 >= opt_seconds)
            break;
    }
    worker_record(w, t0, t1, ops, hits);
}

/* The i-th add of this round: a pooled session, or one made now. Returns
 * SSL_CTX_add_session's result; the id goes to id_out. */
static int round_add(worker_t *w, SSL_CTX *ctx, size_t i, unsigned char *id_out)
{
    int rc;
    if (w->pool == NULL)
        return lib_add(ctx, lib_create(w->run->hs_version, g_t0, w->seq++, id_out));
    rc = lib_add(ctx, w->pool[i]);
    if (id_out != NULL)
        memcpy(id_out, w->pool_ids + i * ID_LEN, ID_LEN);
    return rc;
}

/* A server's lookup that returns the session: the driver's handshake start and server lookup
 * (sesscache). OpenSSL's lookup runs inside SSL_do_handshake and no public call returns a
 * cached session, so its column does what its lookup does with public calls: the hash lookup
 * under the read lock (SSL_has_matching_session_id), a reference on the session found (the
 * benchmark knows it), ssl_get_prev_session's checks of version, sid_ctx and expiry, and the
 * SSL's release of the session it held. */
static void work_resume(worker_t *w)
{
    run_t *r = w->run;
    SSL *ssl = w->ssl;
    uint64_t ops = 0, hits = 0;
    double t0 = now_s(), t1 = t0;
    SSL_SESSION *prev = NULL;
    for (;;) {
        int k;
        for (k = 0; k < 1024; k++) {
            size_t i = rng_below(&w->rng, r->nids);
            hits += (uint64_t)(lib_resume(ssl, r->ids + i * ID_LEN, r->sess[i], &prev) == 1);
        }
        ops += 1024;
        t1 = now_s();
        if (t1 - t0 >= opt_seconds)
            break;
    }
    SSL_SESSION_free(prev);
    worker_record(w, t0, t1, ops, hits);
}

static void work_churn(worker_t *w)
{
    SSL_CTX *ctx = w->own_ctx != NULL ? w->own_ctx : w->run->ctx;
    size_t i;
    w->t0 = now_s();
    for (i = 0; i < w->pool_n; i++)
        if (round_add(w, ctx, i, NULL) != 1)
            w->unexpected++;
    w->t1 = now_s();
    w->ops += w->pool_n;
    w->adds += w->pool_n;
}

static void work_mixed(worker_t *w)
{
    SSL_CTX *ctx = w->run->ctx;
    SSL *ssl = w->ssl;
    size_t i = 0;
    uint64_t ops = 0, hits = 0, looks = 0;
    w->t0 = now_s();
    while (i < w->pool_n) {
        unsigned char id[ID_LEN];
        int k;
        /* 90 %: look up recently cached ids */
        for (k = 0; k < 9; k++)
            hits += (uint64_t)(lib_lookup(ssl, ring_pick(w)) == 1);
        looks += 9;
        /* 10 %: add a new session (evicts) */
        if (round_add(w, ctx, i, id) != 1)
            w->unexpected++;
        ring_push(w, id);
        i++;
        ops += 10;
    }
    w->t1 = now_s();
    w->ops += ops;
    w->hits += hits;
    w->misses += looks - hits;
    w->adds += w->pool_n;
}

#ifdef BENCH_OPENSSL
/* Public-API emulation of the sesscache handshake driver, at OpenSSL's cost:
 *   lookup      = lookup_sess_in_cache: read lock + hash lookup
 *   new_session = ssl_get_new_session + ssl_generate_session_id:
 *                 SSL_SESSION_new, RAND_bytes id, conflict check (read lock)
 *   done        = ssl_update_cache: SSL_CTX_add_session (write lock) for a
 *                 new session, auto-flush every 256 accepts. */
static int emu_new_session(worker_t *w, SSL_SESSION **out, unsigned char *id)
{
    SSL_SESSION *s = SSL_SESSION_new();
    int tries = 0;
    if (s == NULL)
        return -1;
    do {
        if (RAND_bytes(id, ID_LEN) != 1 || ++tries > 10) {
            SSL_SESSION_free(s);
            return -1;
        }
    } while (SSL_has_matching_session_id(w->ssl, id, ID_LEN));
    if (!SSL_SESSION_set1_id(s, id, ID_LEN)
        || !SSL_SESSION_set_protocol_version(s, w->run->hs_version)
        || !SSL_SESSION_set_time(s, (long)time(NULL))
        || !SSL_SESSION_set_timeout(s, SESS_TIMEOUT)) {
        SSL_SESSION_free(s);
        return -1;
    }
    *out = s;
    return 1;
}
#endif

/* The cache's part of a handshake, up to the new session of a full one (the library's
 * calls only: the harness's allocations go between the two parts). Returns 1 for a resumed
 * session, 0 for a full handshake. */
static int hs_first(worker_t *w, const unsigned char *id, SSL_SESSION **ns, unsigned char *nid)
{
    SSL *ssl = w->ssl;
    int rc;
#ifdef BENCH_OPENSSL
    rc = SSL_has_matching_session_id(ssl, id, ID_LEN);
    if (rc == 0 && emu_new_session(w, ns, nid) != 1)
        die("handshake emulation: new session");
#else
    (void)ns;
    (void)nid;
    if (sesscache_handshake_start(ssl) <= 0)
        die("sesscache_handshake_start failed");
    rc = sesscache_server_lookup(ssl, id, ID_LEN);
    if (rc < 0)
        die("sesscache_server_lookup returned -1");
    if (rc == 0 && sesscache_server_new_session(ssl) <= 0)
        die("sesscache_server_new_session failed");
#endif
    return rc;
}

/* The rest: caching a full handshake's session, the end-of-handshake bookkeeping. */
static void hs_second(worker_t *w, int rc, SSL_SESSION *ns, unsigned char *nid)
{
#ifdef BENCH_OPENSSL
    SSL_CTX *ctx = w->run->ctx;
    (void)rc;
    (void)nid; /* emu_new_session wrote it */
    if (ns != NULL) {
        SSL_CTX_add_session(ctx, ns);
        SSL_SESSION_free(ns);
    }
    if ((++w->accepts & 0xff) == 0xff)
        SSL_CTX_flush_sessions(ctx, (long)time(NULL));
#else
    (void)ns;
    if (sesscache_handshake_done(w->ssl) <= 0)
        die("sesscache_handshake_done failed");
    if (rc == 0) {
        SSL_SESSION *cur = SSL_get_session(w->ssl);
        unsigned int len = 0;
        const unsigned char *id = cur ? SSL_SESSION_get_id(cur, &len) : NULL;
        if (id != NULL && len == ID_LEN)
            memcpy(nid, id, ID_LEN);
    }
#endif
}

static void work_handshake(worker_t *w)
{
    uint64_t ops = 0, hits = 0, misses = 0, unexpected = 0, adds = 0;
    double t0 = now_s(), t1 = t0;
    unsigned char unknown[ID_LEN];
    int phase = 0;
    for (;;) {
        int k;
        for (k = 0; k < 256; k++) {
            const unsigned char *id;
            unsigned char nid[ID_LEN];
            SSL_SESSION *ns = NULL;
            int known, rc;
            if (++phase == 10) { /* 10 %: unknown id -> full handshake */
                phase = 0;
                random_id(&w->rng, unknown);
                id = unknown;
                known = 0;
            } else {
                id = ring_pick(w);
                known = 1;
            }
            memset(nid, 0, ID_LEN);
            rc = hs_first(w, id, &ns, nid);
            hs_second(w, rc, ns, nid);
            if (rc == 0) {
                ring_push(w, nid);
                adds++;
            }
            if (rc == 1)
                hits++;
            else
                misses++;
            if (rc != known)
                unexpected++;
        }
        ops += 256;
        t1 = now_s();
        if (t1 - t0 >= opt_seconds)
            break;
    }
    worker_record(w, t0, t1, ops, hits);
    w->misses += misses;
    w->adds += adds;
    w->unexpected += unexpected;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    run_t *r = w->run;
    for (;;) {
        pthread_barrier_wait(&r->start);
        if (r->stop)
            break;
        switch (r->kind) {
        case K_LOOKUP: work_lookup(w); break;
        case K_RESUME: work_resume(w); break;
        case K_CHURN:
        case K_CHURN_SPLIT: work_churn(w); break;
        case K_MIXED: work_mixed(w); break;
        case K_HANDSHAKE: work_handshake(w); break;
        }
        pthread_barrier_wait(&r->done);
    }
    return NULL;
}

/* Give each worker a ring of the most recently cached ids it may look up:
 * ids[n/2 .. n) dealt round-robin; the ring holds n/(2T) entries, i.e. half
 * of what the cache retains, so FIFO-ish eviction never reaches it. */
static void init_rings(run_t *r, const unsigned char *ids, size_t n)
{
    int T = r->nthreads, t;
    size_t cap = n / (2 * (size_t)T), i;
    if (cap < 1)
        cap = 1;
    for (t = 0; t < T; t++) {
        worker_t *w = &r->w[t];
        w->ring_cap = cap;
        w->ring = xmalloc(cap * ID_LEN);
    }
    for (i = n / 2; i < n; i++)
        ring_push(&r->w[i % (size_t)T], ids + i * ID_LEN);
}

static void fill_pools(run_t *r, size_t per_thread, int version)
{
    int t;
    size_t i;
    for (t = 0; t < r->nthreads; t++) {
        worker_t *w = &r->w[t];
        w->pool_n = per_thread;
        if (opt_layout != LAYOUT_POOLED)
            continue; /* made one at a time by the worker */
        if (w->pool == NULL) {
            w->pool = xmalloc(per_thread * sizeof(*w->pool));
            w->pool_ids = xmalloc(per_thread * ID_LEN);
        }
        for (i = 0; i < per_thread; i++)
            w->pool[i] = new_session(version, g_t0, w->pool_ids + i * ID_LEN);
        w->pool_n = per_thread;
    }
}

static const char *kind_name(enum kind k)
{
    switch (k) {
    case K_LOOKUP: return "lookup";
    case K_RESUME: return "resume";
    case K_CHURN: return "churn";
    case K_CHURN_SPLIT: return "churn-split";
    case K_MIXED: return "mixed";
    case K_HANDSHAKE: return "handshake";
    }
    return "?";
}

static void bench_threads(enum kind kind, int T)
{
    size_t n = opt_sessions;
    run_t r;
    int t, version, rounds = 0;
    unsigned char *ids = xmalloc(n * ID_LEN);
    double elapsed = 0, value;
    uint64_t ops = 0, hits = 0, misses = 0, adds = 0, unexpected = 0;
    char extra[256];
    const char *unit = "ops/s";

    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.nthreads = T;
    /* lookup/resume/handshake: no eviction of the looked-up set (lookup, resume:
     * capacity 2N; handshake: capacity N, rings keep to recent ids). churn/mixed:
     * at capacity N, every add evicts. */
    r.ctx = new_ctx(kind == K_LOOKUP || kind == K_RESUME ? (long)(2 * n) : (long)n);
    version = (kind == K_HANDSHAKE || kind == K_RESUME) ? handshake_version(r.ctx)
                                                        : fresh_ssl_version(r.ctx);
    r.hs_version = version;
    if (kind == K_RESUME)
        r.sess = xmalloc(n * sizeof(*r.sess));
    populate(r.ctx, n, version, g_t0, ids, r.sess);
    r.ids = ids;
    r.nids = n;
    r.w = xcalloc((size_t)T, sizeof(worker_t));
    if (pthread_barrier_init(&r.start, NULL, (unsigned)T + 1)
        || pthread_barrier_init(&r.done, NULL, (unsigned)T + 1))
        die("pthread_barrier_init");
    if (kind == K_MIXED || kind == K_HANDSHAKE)
        init_rings(&r, ids, n);
    for (t = 0; t < T; t++) {
        worker_t *w = &r.w[t];
        w->tid = t;
        w->run = &r;
        w->rng = splitmix64(0xbe7c4000ULL + (uint64_t)t * 7919 + (uint64_t)T * 104729);
        /* Each thread's ids: the same sequence for both libraries. */
        w->seq = (uint64_t)(t + 1) << 40;
        if (kind == K_CHURN_SPLIT) {
            /* The same churn with nothing shared between threads but the process:
             * each thread its own context of capacity N/T, full. */
            w->own_ctx = new_ctx((long)(n / (size_t)T));
            populate(w->own_ctx, n / (size_t)T, version, g_t0, NULL, NULL);
        }
        w->ssl = SSL_new(r.ctx);
        if (w->ssl == NULL)
            die("SSL_new");
        if (pthread_create(&w->th, NULL, worker_main, w))
            die("pthread_create");
    }

    for (;;) {
        double mn = 1e300, mx = -1e300;
        if (kind == K_CHURN || kind == K_CHURN_SPLIT)
            fill_pools(&r, (2 * n) / (size_t)T, version);
        else if (kind == K_MIXED)
            fill_pools(&r, (n / 5) / (size_t)T, version);
        pthread_barrier_wait(&r.start);
        pthread_barrier_wait(&r.done);
        for (t = 0; t < T; t++) {
            if (r.w[t].t0 < mn) mn = r.w[t].t0;
            if (r.w[t].t1 > mx) mx = r.w[t].t1;
        }
        elapsed += mx - mn;
        rounds++;
        if (elapsed >= opt_seconds || rounds >= 100)
            break;
    }
    r.stop = 1;
    pthread_barrier_wait(&r.start);
    for (t = 0; t < T; t++) {
        worker_t *w = &r.w[t];
        pthread_join(w->th, NULL);
        ops += w->ops;
        hits += w->hits;
        misses += w->misses;
        adds += w->adds;
        unexpected += w->unexpected;
    }
    value = (double)ops / elapsed;

    switch (kind) {
    case K_LOOKUP:
    case K_RESUME:
        if (hits != ops) {
            fprintf(stderr, "%s: %llu hits of %llu lookups\n", kind_name(kind),
                    (unsigned long long)hits, (unsigned long long)ops);
            die("lookup hit rate is not 100%");
        }
#ifdef BENCH_OPENSSL
        snprintf(extra, sizeof(extra), "hitrate=1%s", kind == K_RESUME ? " emulated=1" : "");
#else
        snprintf(extra, sizeof(extra), "hitrate=1");
#endif
        break;
    case K_CHURN:
    case K_CHURN_SPLIT:
        unit = "adds/s";
        if (unexpected)
            die("churn: SSL_CTX_add_session did not return 1 for a new session");
        snprintf(extra, sizeof(extra), "rounds=%d", rounds);
        break;
    case K_MIXED:
        if (unexpected)
            die("mixed: SSL_CTX_add_session did not return 1 for a new session");
        snprintf(extra, sizeof(extra), "hitrate=%.6f rounds=%d",
                 (double)hits / (double)(hits + misses), rounds);
        if (hits + misses != 0 && (double)hits / (double)(hits + misses) < 0.999)
            fprintf(stderr, "# WARNING: mixed T=%d lookup hit rate %.4f < 0.999\n", T,
                    (double)hits / (double)(hits + misses));
        break;
    case K_HANDSHAKE:
        unit = "handshakes/s";
        snprintf(extra, sizeof(extra), "resumed=%.4f unexpected=%.6f%s",
                 (double)hits / (double)ops, (double)unexpected / (double)ops,
#ifdef BENCH_OPENSSL
                 " emulated=1"
#else
                 ""
#endif
        );
        if ((double)unexpected / (double)ops > 0.001)
            fprintf(stderr, "# WARNING: handshake T=%d: %.4f%% lookups did not give the "
                    "expected hit/miss\n", T, 100.0 * (double)unexpected / (double)ops);
        break;
    }
    result(kind_name(kind), T, value, unit, extra);
    fprintf(stderr, "# %s T=%d: %.0f %s (%llu ops in %.3f s, %d round(s), cache %ld)\n",
            kind_name(kind), T, value, unit, (unsigned long long)ops, elapsed, rounds,
            SSL_CTX_sess_number(r.ctx));

    for (t = 0; t < T; t++) {
        worker_t *w = &r.w[t];
        SSL_free(w->ssl);
        SSL_CTX_free(w->own_ctx);
        free(w->pool);
        free(w->pool_ids);
        free(w->ring);
    }
    pthread_barrier_destroy(&r.start);
    pthread_barrier_destroy(&r.done);
    SSL_CTX_free(r.ctx);
    free(r.w);
    free(ids);
    free(r.sess);
}

int main(int argc, char **argv)
{
    int i;
    double start = now_s();
    parse_args(argc, argv);
    g_t0 = (long)time(NULL);
    fprintf(stderr, "# bench(%s): N=%zu seconds=%.2f threads=", LIB_NAME, opt_sessions,
            opt_seconds);
    for (i = 0; i < opt_nthreads; i++)
        fprintf(stderr, "%s%d", i ? "," : "", opt_threads[i]);
    fprintf(stderr, "\n");
    printf("INFO lib=%s layout=%s sessions=%zu seconds=%g nproc=%ld callbacks=%d\n", LIB_NAME,
           layout_name(opt_layout), opt_sessions, opt_seconds, sysconf(_SC_NPROCESSORS_ONLN),
           opt_callbacks);
    g_noise = noise_new(opt_layout, 0x6d61696eULL);
    calibrate_ticks();

    if (want("fill"))
        bench_fill();
    if (want("lookup"))
        for (i = 0; i < opt_nthreads; i++)
            bench_threads(K_LOOKUP, opt_threads[i]);
    if (want("resume"))
        for (i = 0; i < opt_nthreads; i++)
            bench_threads(K_RESUME, opt_threads[i]);
    if (want("churn"))
        for (i = 0; i < opt_nthreads; i++)
            bench_threads(K_CHURN, opt_threads[i]);
    if (want("mixed"))
        for (i = 0; i < opt_nthreads; i++)
            bench_threads(K_MIXED, opt_threads[i]);
    /* Diagnostic, only when named: churn with one context per thread. */
    if (opt_only != NULL && want("churn-split"))
        for (i = 0; i < opt_nthreads; i++)
            bench_threads(K_CHURN_SPLIT, opt_threads[i]);
    if (want("flush"))
        bench_flush();
    if (want("handshake"))
        for (i = 0; i < opt_nthreads; i++)
            bench_threads(K_HANDSHAKE, opt_threads[i]);
    noise_free(g_noise);
    fprintf(stderr, "# bench(%s): total %.1f s\n", LIB_NAME, now_s() - start);
    return 0;
}
