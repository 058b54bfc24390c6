/*
 * harness.c - the benchmark's shared parts (harness.h): options, timing, ids, sessions,
 * contexts and the counted library calls.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <openssl/ssl.h>

#include "harness.h"

/* ------------------------------------------------------------------ */
/* options                                                              */

size_t opt_sessions = 100000;
int opt_threads[MAX_THREADS] = {1, 2};
int opt_nthreads = 2;
double opt_seconds = 1.0;
int opt_reps = 3;
const char *opt_only = NULL;
int opt_callbacks = 0;
enum layout opt_layout = LAYOUT_SERVER;
noise_t *g_noise; /* the main thread's handshake traffic (populate, fill) */

long g_t0; /* common session time: equal expiries keep OpenSSL's
               expiry-ordered list insertion O(1) (head insert) */
uint64_t g_seq = 1; /* global session-id sequence (main thread only) */

void die(const char *what)
{
    fprintf(stderr, "bench(" LIB_NAME "): FATAL: %s\n", what);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* timing library calls between the harness's own work                 */

/* In the server layouts the fill makes a handshake's allocations around every add, which cost
 * the harness far more than the add (about 1.5 us, and 19 us for nginx's, against 0.1-1 us),
 * so the fill times only the library's calls: each timed segment reads the cycle counter
 * (10 ns here; clock_gettime where there is none) before and after, less the cost of an empty
 * segment. Every other workload runs its operations back to back and is timed by the wall
 * clock. */
static inline int64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return (int64_t)__rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}



double g_tick_s = 1e-9;   /* seconds per tick */
static int64_t g_tick_empty = 0; /* ticks an empty segment reads */

void calibrate_ticks(void)
{
    double t0 = now_s(), t1;
    int64_t k0 = ticks(), k1, best = INT64_MAX;
    int i;
    do
        t1 = now_s();
    while (t1 - t0 < 0.05);
    k1 = ticks();
    g_tick_s = (t1 - t0) / (double)(k1 - k0);
    for (i = 0; i < 100000; i++) {
        int64_t a = ticks(), b = ticks();
        if (b - a < best)
            best = b - a;
    }
    g_tick_empty = best;
}

/* Runs `stmt`, adding its ticks to *(busy) (an int64_t *; NULL: not timed). */
#define TIMED(busy, stmt)                                                                    \
    do {                                                                                     \
        if ((busy) == NULL) {                                                                \
            stmt;                                                                            \
        } else {                                                                             \
            int64_t k_ = ticks();                                                            \
            stmt;                                                                            \
            *(busy) += ticks() - k_ - g_tick_empty;                                          \
        }                                                                                    \
    } while (0)


long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

int want(const char *w)
{
    const char *p;
    size_t n = strlen(w);
    if (opt_only == NULL)
        return 1;
    for (p = opt_only; p != NULL && *p; ) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, w, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--sessions N] [--threads 1,2,...] [--seconds S]\n"
            "          [--reps R] [--layout server|nginx|pooled] [--callbacks 1]\n"
            "          [--only fill,lookup,resume,churn,mixed,flush,handshake]\n"
            "  --sessions N  cache population / capacity (default 100000)\n"
            "  --threads L   thread counts for lookup/churn/mixed/handshake (default 1,2)\n"
            "  --seconds S   timed duration per measurement (default 1.0)\n"
            "  --reps R      repetitions for fill and flush, best kept (default 3)\n"
            "  --layout L    server (default): each session made right before its add,\n"
            "                amid a handshake's allocations; nginx: the same with the\n"
            "                allocations nginx makes; pooled: all sessions of a round\n"
            "                made before any is added\n"
            "  --callbacks 1 install no-op new, remove and get callbacks on every\n"
            "                context (their cost shows against a run without)\n"
            "  --only W      comma-separated subset of workloads (churn-split, one\n"
            "                context per thread, runs only when named)\n",
            argv0);
    exit(1);
}

void parse_args(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage(argv[0]);
        if (v == NULL)
            usage(argv[0]);
        if (strcmp(a, "--sessions") == 0) {
            opt_sessions = strtoul(v, NULL, 10);
            if (opt_sessions < 100)
                die("--sessions must be >= 100");
        } else if (strcmp(a, "--threads") == 0) {
            const char *p = v;
            opt_nthreads = 0;
            while (*p) {
                char *end;
                long t = strtol(p, &end, 10);
                if (end == p || t < 1 || t > MAX_THREADS || opt_nthreads >= MAX_THREADS)
                    die("bad --threads list");
                opt_threads[opt_nthreads++] = (int)t;
                p = (*end == ',') ? end + 1 : end;
                if (*end != ',' && *end != '\0')
                    die("bad --threads list");
            }
            if (opt_nthreads == 0)
                die("empty --threads list");
        } else if (strcmp(a, "--seconds") == 0) {
            opt_seconds = strtod(v, NULL);
            if (!(opt_seconds > 0))
                die("bad --seconds");
        } else if (strcmp(a, "--reps") == 0) {
            opt_reps = atoi(v);
            if (opt_reps < 1)
                die("bad --reps");
        } else if (strcmp(a, "--callbacks") == 0) {
            opt_callbacks = atoi(v) != 0;
        } else if (strcmp(a, "--layout") == 0) {
            int l = layout_parse(v);
            if (l < 0)
                die("bad --layout (server, nginx or pooled)");
            opt_layout = (enum layout)l;
        } else if (strcmp(a, "--only") == 0) {
            opt_only = v;
        } else {
            usage(argv[0]);
        }
        i++;
    }
}

/* ------------------------------------------------------------------ */
/* random numbers and ids                                               */

uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}



/* Distinct pseudo-random 32-byte id derived from a sequence number. */
static void make_id(uint64_t seq, unsigned char *id)
{
    int k;
    for (k = 0; k < ID_LEN / 8; k++) {
        uint64_t w = splitmix64(seq * 4 + (uint64_t)k + 0x5e55cac4e0000000ULL);
        memcpy(id + 8 * k, &w, 8);
    }
}

void random_id(uint64_t *rng, unsigned char *id)
{
    int k;
    for (k = 0; k < ID_LEN / 8; k++) {
        uint64_t w = rng_next(rng);
        memcpy(id + 8 * k, &w, 8);
    }
}

/* New session (caller owns one reference) with the id of sequence number seq. */
static SSL_SESSION *new_session_seq(int version, long t, uint64_t seq, unsigned char *id_out)
{
    unsigned char id[ID_LEN];
    SSL_SESSION *s = SSL_SESSION_new();
    if (s == NULL)
        die("SSL_SESSION_new");
    make_id(seq, id);
    if (!SSL_SESSION_set1_id(s, id, ID_LEN))
        die("SSL_SESSION_set1_id");
    if (!SSL_SESSION_set_protocol_version(s, version))
        die("SSL_SESSION_set_protocol_version");
    if (!SSL_SESSION_set_time(s, t))
        die("SSL_SESSION_set_time");
    if (!SSL_SESSION_set_timeout(s, SESS_TIMEOUT))
        die("SSL_SESSION_set_timeout");
    if (id_out != NULL)
        memcpy(id_out, id, ID_LEN);
    return s;
}


/* The library calls that bench/count.py counts: callgrind toggles its counters on entry to
 * and exit from these functions, which therefore stay out of line, never nest, and are never
 * merged with an identical twin (gcc's -fipa-icf would fold lib_resume into lib_lookup in the
 * OpenSSL build). */
#if defined(__GNUC__) && !defined(__clang__)
#define COUNTED __attribute__((noinline, noipa))
#else
#define COUNTED __attribute__((noinline))
#endif

COUNTED SSL_SESSION *lib_create(int version, long t, uint64_t seq, unsigned char *id_out)
{
    return new_session_seq(version, t, seq, id_out);
}

/* Caches s and releases the caller's reference; SSL_CTX_add_session's result. */
COUNTED int lib_add(SSL_CTX *ctx, SSL_SESSION *s)
{
    int rc = SSL_CTX_add_session(ctx, s);
    SSL_SESSION_free(s);
    return rc;
}

COUNTED int lib_lookup(SSL *ssl, const unsigned char *id)
{
    return SSL_has_matching_session_id(ssl, id, ID_LEN);
}

/* A server's lookup that returns the session (see work_resume): 1 when resumed. `cached` is
 * the session cached under `id` and `prev` the one the SSL held (OpenSSL's emulation). */
COUNTED int lib_resume(SSL *ssl, const unsigned char *id, SSL_SESSION *cached, SSL_SESSION **prev)
{
#ifdef BENCH_OPENSSL
    /* lookup_sess_in_cache: the hash lookup under the read lock, and a reference taken */
    unsigned int sid_ctx_len = 1;
    int rc = SSL_has_matching_session_id(ssl, id, ID_LEN);
    if (rc != 1)
        return rc;
    SSL_SESSION_up_ref(cached);
    /* ssl_get_prev_session's checks: version, sid_ctx, expiry */
    (void)SSL_SESSION_get0_id_context(cached, &sid_ctx_len);
    if (SSL_SESSION_get_protocol_version(cached) != SSL_version(ssl) || sid_ctx_len != 0
        || SSL_SESSION_get_time(cached) + SSL_SESSION_get_timeout(cached) < (long)time(NULL))
        rc = 0;
    /* the SSL takes the session and releases the one it held */
    SSL_SESSION_free(*prev);
    *prev = cached;
    return rc;
#else
    (void)cached;
    (void)prev;
    if (sesscache_handshake_start(ssl) <= 0)
        die("sesscache_handshake_start failed");
    return sesscache_server_lookup(ssl, id, ID_LEN);
#endif
}

/* New session with the next id of the main thread's sequence. */
SSL_SESSION *new_session(int version, long t, unsigned char *id_out)
{
    return new_session_seq(version, t, g_seq++, id_out);
}

/* What one full handshake does to the cache in the server layouts: the session is created
 * amid the handshake's allocations and cached at once. Returns SSL_CTX_add_session's result;
 * the caller's reference is released. The library's calls (creating the session, adding it,
 * releasing the caller's reference) are timed into *busy unless it is NULL. */
int handshake_add(SSL_CTX *ctx, noise_t *z, int version, long t, uint64_t seq,
                         unsigned char *id_out, int64_t *busy, SSL_SESSION **s_out)
{
    SSL_SESSION *s;
    int rc;
    noise_before(z);
    TIMED(busy, s = lib_create(version, t, seq, id_out));
    noise_middle(z);
    if (s_out != NULL)
        *s_out = s; /* no reference: valid while the cache holds it */
    TIMED(busy, rc = lib_add(ctx, s));
    noise_after(z);
    return rc;
}

/* --callbacks 1: callbacks that do nothing, as an external cache would be
 * wired, so that a run shows what merely having them installed costs. */
static int noop_new_cb(SSL *ssl, SSL_SESSION *s)
{
    (void)ssl;
    (void)s;
    return 0; /* the library keeps no extra reference for us */
}

static void noop_remove_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx;
    (void)s;
}

static SSL_SESSION *noop_get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    (void)id;
    (void)len;
    *copy = 0;
    return NULL;
}

SSL_CTX *new_ctx(long cache_size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        die("SSL_CTX_new");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, cache_size);
    if (opt_callbacks) {
        SSL_CTX_sess_set_new_cb(ctx, noop_new_cb);
        SSL_CTX_sess_set_remove_cb(ctx, noop_remove_cb);
        SSL_CTX_sess_set_get_cb(ctx, noop_get_cb);
    }
    return ctx;
}

/* Add n fresh sessions to ctx (untimed), each amid a handshake's allocations in the server
 * layouts; optionally record their ids and (without a reference) the sessions. */
void populate(SSL_CTX *ctx, size_t n, int version, long t, unsigned char *ids,
                     SSL_SESSION **sess)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!handshake_add(ctx, g_noise, version, t, g_seq++, ids ? ids + i * ID_LEN : NULL, NULL,
                           sess ? sess + i : NULL))
            die("SSL_CTX_add_session returned 0 for a new session");
}

void result(const char *w, int threads, double v, const char *unit, const char *extra)
{
    printf("RESULT lib=%s layout=%s workload=%s threads=%d value=%.6g unit=%s%s%s\n", LIB_NAME,
           layout_name(opt_layout), w, threads, v, unit, extra ? " " : "", extra ? extra : "");
    fflush(stdout);
}

/* Version that SSL_has_matching_session_id keys on for a fresh SSL. */
int fresh_ssl_version(SSL_CTX *ctx)
{
    SSL *ssl = SSL_new(ctx);
    int v;
    if (ssl == NULL)
        die("SSL_new");
    v = SSL_version(ssl);
    SSL_free(ssl);
    return v;
}

/* Version an SSL has after the handshake driver started it. */
int handshake_version(SSL_CTX *ctx)
{
#ifdef BENCH_OPENSSL
    return fresh_ssl_version(ctx); /* emulation keys on the fresh version */
#else
    SSL *ssl = SSL_new(ctx);
    int v;
    if (ssl == NULL)
        die("SSL_new");
    if (sesscache_handshake_start(ssl) <= 0)
        die("sesscache_handshake_start");
    v = SSL_version(ssl);
    SSL_free(ssl);
    return v;
#endif
}
