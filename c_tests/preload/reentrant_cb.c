/*
 * reentrant_cb.c: a remove callback that changes the context's callbacks and reads its
 * counters, on explicit removal, eviction and flush. libssl's setters and getters take no lock,
 * so this works with libssl; under the preload it once deadlocked (the callback ran while the
 * preload held its callbacks lock). Prints the same transcript with and without the preload.
 */
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int calls;

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl; (void)id; (void)len; (void)copy;
    return NULL;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    unsigned int len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    calls++;
    /* Re-enter: swap a callback and read the statistics. */
    SSL_CTX_sess_set_get_cb(ctx, calls % 2 ? NULL : get_cb);
    printf("  remove_cb #%d id=%02x get_cb_set=%d cache_full=%ld\n", calls, len ? id[0] : 0,
           SSL_CTX_sess_get_get_cb(ctx) != NULL, SSL_CTX_sess_cache_full(ctx));
}

static SSL_SESSION *mk(unsigned char b, long t)
{
    unsigned char id[32];
    SSL_SESSION *s = SSL_SESSION_new();
    memset(id, b, sizeof id);
    if (s == NULL || !SSL_SESSION_set1_id(s, id, sizeof id) || !SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION))
        return NULL;
    (void)SSL_SESSION_set_time(s, t);
    (void)SSL_SESSION_set_timeout(s, 100);
    return s;
}

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    long now = (long)time(NULL);
    SSL_SESSION *s[5];
    int i;
    if (ctx == NULL)
        return 1;
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    for (i = 0; i < 5; i++)
        if ((s[i] = mk((unsigned char)(0x10 + i), now + i)) == NULL)
            return 1;
    printf("add 10 11: %d %d\n", SSL_CTX_add_session(ctx, s[0]), SSL_CTX_add_session(ctx, s[1]));
    printf("remove 10: %d\n", SSL_CTX_remove_session(ctx, s[0]));
    printf("size 2: %ld\n", SSL_CTX_sess_set_cache_size(ctx, 2));
    printf("add 12 (evicts 11): %d\n", SSL_CTX_add_session(ctx, s[2]));
    printf("add 13 (evicts 12): %d\n", SSL_CTX_add_session(ctx, s[3]));
    printf("flush(now+200): number before %ld\n", SSL_CTX_sess_number(ctx));
    SSL_CTX_flush_sessions(ctx, now + 200);
    printf("number after %ld, remove_cb calls %d\n", SSL_CTX_sess_number(ctx), calls);
    printf("add 14: %d\n", SSL_CTX_add_session(ctx, s[4]));
    for (i = 0; i < 5; i++)
        SSL_SESSION_free(s[i]);
    printf("free ctx:\n");
    SSL_CTX_free(ctx);
    printf("done, remove_cb calls %d\n", calls);
    return 0;
}
