/*
 * redis_sharing.c: two servers share their sessions through Redis (sesscache_redis_attach).
 *
 * Two server contexts stand for two TLS terminators behind a load balancer. Each keeps its
 * sessions in Redis only (SSL_SESS_CACHE_NO_INTERNAL_STORE), under the same session-id
 * context, and seals its values with the fleet's key (sesscache_redis_seal): Redis never sees a
 * master secret. A client makes a full handshake with server A, then comes back through server
 * B, which finds the session in Redis, opens it and resumes it. A third server with another
 * session-id context (another service) does not, nor does a fourth whose key is not the
 * fleet's. Exits 1 when something does not add up.
 *
 * It needs a Redis server, given by URL in SESSCACHE_REDIS; without it the program prints how
 * to run it and exits 0 (make test runs it so):
 *
 *   redis-server --port 6380 --save '' --appendonly no &
 *   SESSCACHE_REDIS=redis://127.0.0.1:6380/0 ./redis_sharing
 *
 * A rediss:// URL works too (the system's CA store verifies Redis's certificate; see
 * sesscache_redis_attach_tls for a CA file or a client certificate).
 *
 * Build: cc -Iinclude examples/redis_sharing.c -Ltarget/release -lsesscache
 *    or: cc examples/redis_sharing.c $(pkg-config --cflags --libs sesscache)
 */
#include <sesscache.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define EXPECT(c) \
    do { if (!(c)) { fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

/* A server that keeps its sessions in Redis only, for the service `service`, sealed with the
 * 32-byte key `key`. In a real fleet every server loads the same key file, e.g.
 * sesscache_redis_seal_file(ctx, "/etc/sesscache/seal.keys"), new key first when rotating. */
static SSL_CTX *server(const char *url, const char *service, const unsigned char key[32])
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)service, (unsigned)strlen(service));
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    if (sesscache_redis_seal(ctx, key, 32) != 1               /* before attaching: nothing unsealed */
        || sesscache_redis_attach(ctx, url, 50) != 1) {       /* 50 ms per Redis operation at most */
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* One handshake of a client against `sctx`, offering `offer` (or nothing). Returns whether the
 * server resumed; *out (if not NULL) receives the client's session, with a reference. */
static int connect_to(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *offer, SSL_SESSION **out)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    int reused;

    if (offer != NULL)
        SSL_set_session(c, offer);
    EXPECT(sesscache_handshake(c, s) == 1);
    reused = SSL_session_reused(s);
    if (out != NULL)
        *out = SSL_get1_session(c);
    SSL_free(c);
    SSL_free(s);
    return reused;
}

static void show(const char *name, SSL_CTX *ctx)
{
    printf("%s: redis hits=%ld misses=%ld stores=%ld errors=%ld timeouts=%ld corrupt=%ld; cb_hits=%ld cached=%ld\n",
           name, sesscache_redis_stat(ctx, SESSCACHE_REDIS_HITS), sesscache_redis_stat(ctx, SESSCACHE_REDIS_MISSES),
           sesscache_redis_stat(ctx, SESSCACHE_REDIS_STORES), sesscache_redis_stat(ctx, SESSCACHE_REDIS_ERRORS),
           sesscache_redis_stat(ctx, SESSCACHE_REDIS_TIMEOUTS), sesscache_redis_stat(ctx, SESSCACHE_REDIS_CORRUPT),
           SSL_CTX_sess_cb_hits(ctx), SSL_CTX_sess_number(ctx));
}

int main(void)
{
    const char *url = getenv("SESSCACHE_REDIS");
    SSL_CTX *a, *b, *other, *stranger, *cctx;
    SSL_SESSION *sess = NULL;
    int first, at_b, at_other, at_stranger;
    unsigned char fleet_key[32], other_key[32];
    FILE *rnd;

    if (url == NULL || *url == '\0') {
        printf("redis_sharing: set SESSCACHE_REDIS to a Redis URL to run this example, e.g.\n");
        printf("  redis-server --port 6380 --save '' --appendonly no &\n");
        printf("  SESSCACHE_REDIS=redis://127.0.0.1:6380/0 ./redis_sharing\n");
        return 0;
    }
    /* Two random keys for the demonstration: the fleet's, and one that is not. */
    rnd = fopen("/dev/urandom", "rb");
    if (rnd == NULL || fread(fleet_key, 1, 32, rnd) != 32 || fread(other_key, 1, 32, rnd) != 32) {
        fprintf(stderr, "redis_sharing: cannot read /dev/urandom\n");
        return 1;
    }
    fclose(rnd);
    a = server(url, "web", fleet_key);
    b = server(url, "web", fleet_key);
    other = server(url, "mail", fleet_key);
    stranger = server(url, "web", other_key);
    cctx = SSL_CTX_new(TLS_client_method());
    if (a == NULL || b == NULL || other == NULL || stranger == NULL || cctx == NULL) {
        fprintf(stderr, "redis_sharing: SESSCACHE_REDIS is not a redis:// URL\n");
        return 1;
    }

    first = connect_to(a, cctx, NULL, &sess);         /* full handshake; A stores in Redis */
    at_b = connect_to(b, cctx, sess, NULL);           /* B finds it in Redis */
    at_other = connect_to(other, cctx, sess, NULL);   /* another service: not its session */
    at_stranger = connect_to(stranger, cctx, sess, NULL); /* not the fleet's key: cannot open it */
    printf("server A: %s; server B: %s; service \"mail\": %s; another key: %s\n",
           first ? "resumed" : "full handshake", at_b ? "resumed" : "full handshake",
           at_other ? "resumed" : "full handshake", at_stranger ? "resumed" : "full handshake");
    show("server A", a);
    show("server B", b);
    show("another key", stranger);
    if (!at_b && sesscache_redis_stat(a, SESSCACHE_REDIS_STORES) == 0)
        fprintf(stderr, "redis_sharing: nothing was stored: is Redis running at SESSCACHE_REDIS?\n");
    EXPECT(!first && at_b && !at_other && !at_stranger);
    EXPECT(sesscache_redis_stat(stranger, SESSCACHE_REDIS_CORRUPT) == 1);
    EXPECT(sesscache_redis_stat(a, SESSCACHE_REDIS_STORES) == 1);
    EXPECT(sesscache_redis_stat(b, SESSCACHE_REDIS_HITS) == 1 && SSL_CTX_sess_cb_hits(b) == 1);
    EXPECT(SSL_CTX_sess_number(a) == 0 && SSL_CTX_sess_number(b) == 0); /* Redis is the only store */

    SSL_SESSION_free(sess);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(other);
    SSL_CTX_free(stranger);
    SSL_CTX_free(cctx);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
