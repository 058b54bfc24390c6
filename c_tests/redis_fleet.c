/*
 * redis_fleet.c: sessions shared through Redis (sesscache_redis_attach), written against
 * include/sesscache.h and driven by scripts/test.d/redis.sh, which runs its own redis-server.
 *
 *   redis_fleet put URL SIDCTX FILE [KEYS]
 *                                        full handshake on a Redis-only server; the client's
 *                                        session goes to FILE as DER (i2d_SSL_SESSION)
 *   redis_fleet resume URL SIDCTX FILE EXPECT [KEYS]
 *                                        another process: the client offers FILE's session to
 *                                        a Redis-only server; prints reused and the counters
 *   KEYS: a key file (sesscache_redis_seal_file) whose first key seals the values; with the
 *   environment's REDIS_FLEET_CA set, the URL is rediss:// and sesscache_redis_attach_tls
 *   verifies the server with that CA file. REDIS_FLEET_TIMEOUT_MS sets the bound of put and
 *   resume (default 50; the outage is measured at 50).
 *   redis_fleet outage URL REDIS_CLI STOP CONT KILL START
 *                                        stalls, kills and restarts Redis (shell commands) and
 *                                        measures how long lookups take meanwhile
 * Exit status 0 when every check held; failures are printed as "FAIL ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sesscache.h"

#define TIMEOUT_MS 50

static int failures;
static const char *g_keys; /* the seal key file, or NULL */
static long g_timeout_ms = TIMEOUT_MS;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static SSL_CTX *server_ctx(const char *url, const char *sid_ctx)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *ca = getenv("REDIS_FLEET_CA");

    if (ctx == NULL
        || SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE) < 0
        || !SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_ctx, (unsigned int)strlen(sid_ctx))
        /* the keys first: no session is stored unsealed in between */
        || (g_keys != NULL && sesscache_redis_seal_file(ctx, g_keys) != 1)
        || (ca != NULL ? sesscache_redis_attach_tls(ctx, url, g_timeout_ms, ca, NULL, NULL)
                       : sesscache_redis_attach(ctx, url, g_timeout_ms)) != 1) {
        printf("FAIL server context\n");
        exit(2);
    }
    return ctx;
}

static SSL_SESSION *g_server_session; /* the server's session of the last handshake (get1) */

/* One handshake; client offers `offer` (may be NULL). Returns the client's session (get1). */
static SSL_SESSION *handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *offer, int *reused)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    SSL_SESSION *out;

    if (c == NULL || s == NULL) {
        printf("FAIL SSL_new\n");
        exit(2);
    }
    if (offer != NULL)
        SSL_set_session(c, offer);
    check(sesscache_handshake(c, s) == 1, "handshake");
    *reused = SSL_session_reused(s);
    out = SSL_get1_session(c);
    SSL_SESSION_free(g_server_session);
    g_server_session = SSL_get1_session(s);
    SSL_free(c);
    SSL_free(s);
    return out;
}

static void print_stats(const char *who, SSL_CTX *ctx)
{
    printf("%s: hits=%ld misses=%ld cb_hits=%ld redis: hits=%ld misses=%ld stores=%ld deletes=%ld"
           " errors=%ld timeouts=%ld corrupt=%ld skipped=%ld\n",
           who, SSL_CTX_sess_hits(ctx), SSL_CTX_sess_misses(ctx), SSL_CTX_sess_cb_hits(ctx),
           sesscache_redis_stat(ctx, SESSCACHE_REDIS_HITS), sesscache_redis_stat(ctx, SESSCACHE_REDIS_MISSES),
           sesscache_redis_stat(ctx, SESSCACHE_REDIS_STORES), sesscache_redis_stat(ctx, SESSCACHE_REDIS_DELETES),
           sesscache_redis_stat(ctx, SESSCACHE_REDIS_ERRORS), sesscache_redis_stat(ctx, SESSCACHE_REDIS_TIMEOUTS),
           sesscache_redis_stat(ctx, SESSCACHE_REDIS_CORRUPT), sesscache_redis_stat(ctx, SESSCACHE_REDIS_SKIPPED));
}

static void write_der(const char *file, SSL_SESSION *s)
{
    unsigned char *der = NULL;
    int len = i2d_SSL_SESSION(s, &der);
    FILE *f = fopen(file, "wb");

    check(len > 0 && f != NULL && fwrite(der, 1, (size_t)len, f) == (size_t)len, "write DER");
    if (f != NULL)
        fclose(f);
    free(der);
}

static SSL_SESSION *read_der(const char *file)
{
    static unsigned char buf[4096];
    FILE *f = fopen(file, "rb");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf), f) : 0;
    const unsigned char *p = buf;

    if (f != NULL)
        fclose(f);
    return d2i_SSL_SESSION(NULL, &p, (long)n);
}

static int do_put(const char *url, const char *sid_ctx, const char *file)
{
    SSL_CTX *sctx = server_ctx(url, sid_ctx), *cctx = SSL_CTX_new(TLS_client_method());
    int reused = -1;
    SSL_SESSION *s = handshake(sctx, cctx, NULL, &reused);

    check(reused == 0, "first handshake is full");
    check(sesscache_redis_stat(sctx, SESSCACHE_REDIS_STORES) == 1, "one session stored in Redis");
    check(SSL_CTX_sess_number(sctx) == 0, "NO_INTERNAL_STORE: internal cache empty");
    write_der(file, s);
    print_stats("put", sctx);
    SSL_SESSION_free(s);
    SSL_SESSION_free(g_server_session);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return failures != 0;
}

static int do_resume(const char *url, const char *sid_ctx, const char *file, int expect)
{
    SSL_CTX *sctx = server_ctx(url, sid_ctx), *cctx = SSL_CTX_new(TLS_client_method());
    SSL_SESSION *offer = read_der(file), *s;
    int reused = -1;

    check(offer != NULL, "d2i of the saved client session");
    s = handshake(sctx, cctx, offer, &reused);
    printf("resume sid_ctx=%s: reused=%d\n", sid_ctx, reused);
    check(reused == expect, expect ? "resumed in the other process" : "other sid_ctx: not resumed");
    check(SSL_CTX_sess_cb_hits(sctx) == expect, "cb_hits");
    check(SSL_CTX_sess_hits(sctx) == expect, "hits");
    check(sesscache_redis_stat(sctx, SESSCACHE_REDIS_HITS) == expect, "redis hits");
    print_stats("resume", sctx);
    SSL_SESSION_free(s);
    SSL_SESSION_free(offer);
    SSL_SESSION_free(g_server_session);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return failures != 0;
}

/* A full handshake, then a resumption of its session: 1 when it resumed. */
static int round_trip(SSL_CTX *sctx, SSL_CTX *cctx)
{
    int r1 = -1, r2 = -1;
    SSL_SESSION *s = handshake(sctx, cctx, NULL, &r1), *t = handshake(sctx, cctx, s, &r2);

    SSL_SESSION_free(s);
    SSL_SESSION_free(t);
    return r1 == 0 && r2 == 1;
}

/* Times `n` lookups of `offer` (server steps only); returns the longest, in ms. */
static double lookups(SSL_CTX *sctx, SSL_SESSION *offer, int n, int *hits)
{
    unsigned int idlen;
    const unsigned char *id = SSL_SESSION_get_id(offer, &idlen);
    double worst = 0;
    int i;

    *hits = 0;
    for (i = 0; i < n; i++) {
        SSL *s = SSL_new(sctx);
        double t0, dt;
        int r;

        sesscache_handshake_start(s);
        t0 = now_ms();
        r = sesscache_server_lookup(s, id, idlen);
        dt = now_ms() - t0;
        if (dt > worst)
            worst = dt;
        if (r == 1)
            (*hits)++;
        SSL_free(s);
    }
    return worst;
}

/* Repeats round trips until one resumes; returns the ms it took, or -1 after ~5 s. */
static double recovery(SSL_CTX *sctx, SSL_CTX *cctx)
{
    double t0 = now_ms();
    int i;

    for (i = 0; i < 500; i++) {
        struct timespec pause = { 0, 10 * 1000 * 1000 };

        if (round_trip(sctx, cctx))
            return now_ms() - t0;
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void set_key(const char *redis_cli, SSL_SESSION *key_of, const unsigned char *val, size_t n)
{
    char cmd[1024], key[200];
    const char *file = "redis_fleet.value.tmp";
    unsigned int len, i;
    const unsigned char *p;
    FILE *f = fopen(file, "wb");
    size_t k;

    check(f != NULL && fwrite(val, 1, n, f) == n, "write value");
    if (f != NULL)
        fclose(f);
    k = (size_t)snprintf(key, sizeof(key), "sesscache:");
    for (p = (const unsigned char *)"outage"; *p != 0; p++)
        k += (size_t)snprintf(key + k, sizeof(key) - k, "%02x", *p);
    k += (size_t)snprintf(key + k, sizeof(key) - k, ":");
    p = SSL_SESSION_get_id(key_of, &len);
    for (i = 0; i < len; i++)
        k += (size_t)snprintf(key + k, sizeof(key) - k, "%02x", p[i]);
    snprintf(cmd, sizeof(cmd), "%s -x SET %s < %s >/dev/null", redis_cli, key, file);
    check(system(cmd) == 0, "redis-cli SET");
    remove(file);
}

static int do_outage(const char *url, const char *redis_cli, const char *stop, const char *cont,
                     const char *kill, const char *start)
{
    SSL_CTX *sctx = server_ctx(url, "outage"), *cctx = SSL_CTX_new(TLS_client_method());
    SSL_SESSION *stored, *other;
    int reused, hits;
    double worst, rec;
    long before;
    unsigned char *der = NULL;
    int len;

    check(round_trip(sctx, cctx), "baseline: resumed through Redis");
    stored = handshake(sctx, cctx, NULL, &reused);
    lookups(sctx, stored, 1, &hits);
    check(hits == 1, "baseline lookup hits");

    /* Redis stalled (SIGSTOP): connections are accepted, replies never come. */
    check(system(stop) == 0, "stop redis");
    worst = lookups(sctx, stored, 20, &hits);
    printf("stalled redis: 20 lookups, 0 expected hits, %d hits, slowest %.1f ms (bound %d ms)\n", hits, worst,
           TIMEOUT_MS);
    check(hits == 0, "stalled: lookups miss");
    check(worst <= TIMEOUT_MS + 10, "stalled: within the bound (10 ms for scheduling)");
    check(sesscache_redis_stat(sctx, SESSCACHE_REDIS_TIMEOUTS) >= 1, "stalled: timeouts counted");
    check(system(cont) == 0, "continue redis");
    rec = recovery(sctx, cctx);
    printf("stalled redis resumed: caching back after %.0f ms\n", rec);
    check(rec >= 0, "caching resumes after a stall");

    /* Redis killed: connections are refused. */
    check(system(kill) == 0, "kill redis");
    before = sesscache_redis_stat(sctx, SESSCACHE_REDIS_ERRORS);
    worst = lookups(sctx, stored, 20, &hits);
    printf("killed redis: 20 lookups, %d hits, slowest %.1f ms (bound %d ms)\n", hits, worst, TIMEOUT_MS);
    check(hits == 0, "killed: lookups miss");
    check(worst <= TIMEOUT_MS + 10, "killed: within the bound (10 ms for scheduling)");
    check(sesscache_redis_stat(sctx, SESSCACHE_REDIS_ERRORS) > before, "killed: errors counted");
    worst = now_ms();
    check(round_trip(sctx, cctx) == 0, "killed: a full handshake still completes, no resumption");
    printf("killed redis: a full handshake plus a failed resumption took %.1f ms\n", now_ms() - worst);
    check(system(start) == 0, "restart redis");
    rec = recovery(sctx, cctx);
    printf("restarted redis: caching back after %.0f ms\n", rec);
    check(rec >= 0, "caching resumes after a restart");

    /* Corrupt and foreign values: a miss and a counter. */
    SSL_SESSION_free(stored);
    stored = handshake(sctx, cctx, NULL, &reused);
    other = handshake(sctx, cctx, NULL, &reused);
    lookups(sctx, stored, 1, &hits);
    check(hits == 1, "stored session found");
    before = sesscache_redis_stat(sctx, SESSCACHE_REDIS_CORRUPT);
    set_key(redis_cli, stored, (const unsigned char *)"\x30\x03garbage", 10);
    lookups(sctx, stored, 1, &hits);
    check(hits == 0 && sesscache_redis_stat(sctx, SESSCACHE_REDIS_CORRUPT) == before + 1, "garbage: miss, counted");
    len = i2d_SSL_SESSION(other, &der);
    set_key(redis_cli, stored, der, (size_t)len);
    free(der);
    lookups(sctx, stored, 1, &hits);
    check(hits == 0 && sesscache_redis_stat(sctx, SESSCACHE_REDIS_CORRUPT) == before + 2,
          "another session's bytes: miss, counted");
    /* SSL_CTX_remove_session deletes from Redis. */
    lookups(sctx, other, 1, &hits);
    check(hits == 1, "other session found");
    SSL_SESSION_free(other);
    other = handshake(sctx, cctx, NULL, &reused);
    SSL_CTX_remove_session(sctx, g_server_session);
    lookups(sctx, other, 1, &hits);
    check(hits == 0 && sesscache_redis_stat(sctx, SESSCACHE_REDIS_DELETES) >= 1, "removed: deleted from Redis");
    print_stats("outage", sctx);
    SSL_SESSION_free(stored);
    SSL_SESSION_free(other);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    SSL_SESSION_free(g_server_session);
    g_server_session = NULL;
    printf("live sessions at exit: %ld\n", (long)sesscache_live_sessions());
    return failures != 0;
}

int main(int argc, char **argv)
{
    const char *t = getenv("REDIS_FLEET_TIMEOUT_MS");

    if (t != NULL && argc > 1 && strcmp(argv[1], "outage") != 0)
        g_timeout_ms = atol(t);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "put") == 0) {
        g_keys = argc == 6 ? argv[5] : NULL;
        return do_put(argv[2], argv[3], argv[4]);
    }
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "resume") == 0) {
        g_keys = argc == 7 ? argv[6] : NULL;
        return do_resume(argv[2], argv[3], argv[4], atoi(argv[5]));
    }
    if (argc == 8 && strcmp(argv[1], "outage") == 0)
        return do_outage(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
    fprintf(stderr, "usage: see the comment at the top of redis_fleet.c\n");
    return 2;
}
