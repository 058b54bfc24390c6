/*
 * test_regressions.c - one standing test for each known session-cache bug of the ecosystem:
 *
 *  1. CVE-2024-2511, unbounded cache growth: a cache of size N never holds more than N
 *     sessions, whatever ids arrive (empty ids, repeated ids, ids of every length).
 *  2. openssl#6222, use-after-free in remove_cb: a remove callback that frees the
 *     application's own reference, or re-enters the cache, is safe (no use-after-free: run
 *     under ASan and valgrind by `make check`), for removal, eviction, flush and expiry.
 *  3. Double frees from a misread *copy (rust-openssl, wolfSSL): the get callback's *copy
 *     works both ways, checked with exact reference counts.
 *  4. Leaks from the new callback's return value (Traffic Server, curl): returning 0 and
 *     returning 1 both leave exactly the references the application expects.
 *  5. Deadlocks from callbacks that re-enter the cache (ruby/openssl#155, trafficserver#1389):
 *     every callback calls back into the API; the watchdog fails the test if it hangs.
 *
 * The reference counts are observed through sesscache_live_sessions().
 */
#include "testutil.h"

/* ---- 1. CVE-2024-2511 ---- */

static void bounded_growth(void)
{
    long t = (long)time(NULL), sizes[] = { 1, 2, 3, 8, 33 };
    unsigned i, k;

    tu_section("CVE-2024-2511: a cache of size N never holds more than N sessions");
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
        long n = sizes[k], max = 0, over = 0;

        SSL_CTX_sess_set_cache_size(ctx, n);
        for (i = 0; i < 2000; i++) {
            /* Every 3rd id empty, lengths 0..32, fills that repeat: replaces, empty ids, new. */
            unsigned len = (i % 3 == 0) ? 0 : i % 33;
            SSL_SESSION *s = tu_sess((unsigned char)(i % 7), len, t + (long)(i % 5), 100 + (long)(i % 11));
            long num;

            if (i % 4 == 0)
                SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
            SSL_CTX_add_session(ctx, s);
            SSL_SESSION_free(s);
            num = SSL_CTX_sess_number(ctx);
            if (num > max)
                max = num;
            if (num > n)
                over++;
        }
        CHECK(over == 0 && max <= n, "size %ld: at most %ld sessions after 2000 adds (max seen %ld)", n, n, max);
        SSL_CTX_free(ctx);
    }

    /* Only empty ids: each replaces the last, or is evicted; never more than N. */
    {
        SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
        long max = 0;

        SSL_CTX_sess_set_cache_size(ctx, 4);
        for (i = 0; i < 500; i++) {
            SSL_SESSION *s = tu_sess(0, 0, t, 100 + (long)i);

            SSL_CTX_add_session(ctx, s);
            SSL_SESSION_free(s);
            if (SSL_CTX_sess_number(ctx) > max)
                max = SSL_CTX_sess_number(ctx);
        }
        CHECK(max <= 4, "size 4, only empty ids: at most 4 sessions (max seen %ld)", max);
        SSL_CTX_free(ctx);
    }

    /* The handshake path: 500 full handshakes into a cache of size 5. */
    {
        SSL_CTX *sctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
        SSL_CTX *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_OFF);
        long max = 0;

        SSL_CTX_sess_set_cache_size(sctx, 5);
        for (i = 0; i < 500; i++) {
            SSL *c = tu_ssl(cctx, 0), *s = tu_ssl(sctx, 1);

            sesscache_handshake(c, s);
            SSL_free(c);
            SSL_free(s);
            if (SSL_CTX_sess_number(sctx) > max)
                max = SSL_CTX_sess_number(sctx);
        }
        CHECK(max <= 5, "size 5, 500 handshakes: at most 5 sessions (max seen %ld)", max);
        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
    }
}

/* ---- 2. openssl#6222: remove_cb that frees or re-enters ---- */

#define MAXEXT 8
static SSL_SESSION *ext[MAXEXT]; /* the application's references, freed by remove_cb */
static int rm_calls, rm_freed, rm_reenter, rm_depth;

static void freeing_remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    int i;
    unsigned int len = 0;
    const unsigned char *id;

    rm_calls++;
    for (i = 0; i < MAXEXT; i++) {
        if (ext[i] == sess) {
            ext[i] = NULL;
            SSL_SESSION_free(sess); /* the application's own reference: the library lends one */
            rm_freed++;
            break;
        }
    }
    /* The session must still be readable after that free (the library's loan). */
    id = SSL_SESSION_get_id(sess, &len);
    if (id == NULL || SSL_SESSION_is_resumable(sess))
        rm_calls += 1000; /* shows up as a wrong count below */
    if (rm_reenter && rm_depth == 0) {
        rm_depth++;
        SSL_CTX_sess_number(ctx);
        SSL_CTX_remove_session(ctx, sess); /* nested: returns 0, runs this callback again */
        SSL_CTX_flush_sessions(ctx, 1);
        rm_depth--;
    }
}

/* Puts sessions 1..n into ctx with the application's reference moved to ext[]. */
static void fill_ext(SSL_CTX *ctx, int n, long t)
{
    int i;

    for (i = 0; i < n && i < MAXEXT; i++) {
        ext[i] = tu_sess((unsigned char)(0x60 + i), 32, t, 100 + i);
        SSL_CTX_add_session(ctx, ext[i]);
    }
}

static int ext_left(void)
{
    int i, n = 0;

    for (i = 0; i < MAXEXT; i++)
        n += ext[i] != NULL;
    return n;
}

static void remove_cb_frees(int reenter)
{
    long t = (long)time(NULL), base = sesscache_live_sessions();
    const char *how = reenter ? "freeing and re-entering" : "freeing";
    SSL_CTX *ctx;
    SSL_SESSION *extra;
    int i;

    rm_reenter = reenter;

    /* Explicit removal: the callback frees the reference the caller passed in... */
    ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_remove_cb(ctx, freeing_remove_cb);
    rm_calls = rm_freed = 0;
    fill_ext(ctx, 3, t);
    extra = ext[1];
    SSL_SESSION_up_ref(extra); /* our argument's reference, separate from ext's */
    CHECK_EQ(SSL_CTX_remove_session(ctx, extra), 1, "%s remove_cb, explicit removal: returns 1", how);
    CHECK(rm_freed == 1 && rm_calls == (reenter ? 2 : 1), "%s remove_cb, explicit removal: called %d times", how,
          rm_calls);
    SSL_SESSION_free(extra);

    /* Eviction: size 3 holds 2; adding 3 more evicts the earliest expiries. */
    SSL_CTX_sess_set_cache_size(ctx, 3);
    rm_calls = rm_freed = 0;
    for (i = 0; i < 3; i++) {
        SSL_SESSION *s = tu_sess((unsigned char)(0x70 + i), 32, t, 500 + i);

        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    CHECK(rm_freed == 2 && SSL_CTX_sess_number(ctx) == 2, "%s remove_cb, eviction: both kept sessions freed by it",
          how);

    /* Expiry in a lookup: a cached session found expired is removed through remove_cb. */
    {
        SSL *s = tu_ssl(ctx, 1);
        unsigned char id[32];

        ext[0] = tu_sess(0x7f, 32, t - 1000, 10);
        SSL_CTX_add_session(ctx, ext[0]);
        rm_calls = rm_freed = 0;
        sesscache_handshake_start(s);
        tu_id(id, 0x7f, 32);
        CHECK_EQ(sesscache_server_lookup(s, id, 32), 0, "%s remove_cb, expiry: the lookup misses", how);
        CHECK(rm_freed == 1 && ext[0] == NULL, "%s remove_cb, expiry: the expired session freed by it", how);
        SSL_free(s);
    }

    /* Flush, then SSL_CTX_free: each kept session freed exactly once. */
    SSL_CTX_sess_set_cache_size(ctx, 0);
    fill_ext(ctx, 4, t);
    rm_calls = rm_freed = 0;
    SSL_CTX_flush_sessions(ctx, t + 102); /* expires ext[0..1] (timeouts 100, 101) */
    CHECK(rm_freed == 2 && ext_left() == 2, "%s remove_cb, flush: the expired kept sessions freed", how);
    SSL_CTX_free(ctx);
    CHECK_EQ(ext_left(), 0, "%s remove_cb, SSL_CTX_free: the rest freed by it", how);
    CHECK_EQ(sesscache_live_sessions(), base, "%s remove_cb: nothing leaked, nothing freed twice", how);
}

/* ---- 3 and 4. the get callback's *copy and the new callback's return ---- */

static SSL_SESSION *kept;   /* the external cache: one session, one reference */
static int copy_mode;       /* 1: lend (*copy stays 1); 0: hand over (up_ref, *copy = 0) */
static int new_ret;

static int keep_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    if (new_ret) {
        SSL_SESSION_free(kept);
        kept = sess;
    }
    return new_ret;
}

static SSL_SESSION *lend_get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    (void)id;
    (void)len;
    if (kept == NULL)
        return NULL;
    if (copy_mode == 0) {
        SSL_SESSION_up_ref(kept);
        *copy = 0;
    }
    return kept;
}

static void get_cb_copy(int mode)
{
    SSL_CTX *sctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_OFF);
    SSL *c = tu_ssl(cctx, 0), *s = tu_ssl(sctx, 1);
    SSL_SESSION *cs;
    long base = sesscache_live_sessions(), before;
    int i, resumed = 0;

    kept = NULL;
    copy_mode = mode;
    new_ret = 1;
    SSL_CTX_sess_set_new_cb(sctx, keep_new_cb);
    SSL_CTX_sess_set_get_cb(sctx, lend_get_cb);
    sesscache_handshake(c, s); /* full: new_cb keeps the server session */
    cs = SSL_get1_session(c);
    SSL_free(s);
    before = sesscache_live_sessions();
    for (i = 0; i < 50; i++) {
        s = tu_ssl(sctx, 1);
        SSL_set_session(c, cs);
        sesscache_handshake(c, s);
        resumed += SSL_session_reused(s);
        SSL_free(s);
    }
    CHECK_EQ(resumed, 50, "*copy = %d: 50 resumptions from get_cb", mode);
    CHECK_EQ(sesscache_live_sessions(), before, "*copy = %d: no reference gained or lost over 50 lookups", mode);
    SSL_free(c);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    CHECK_EQ(sesscache_live_sessions() - base, 2, "*copy = %d: only the kept and the client session remain", mode);
    SSL_SESSION_free(kept);
    SSL_SESSION_free(cs);
    kept = NULL;
    CHECK_EQ(sesscache_live_sessions(), base, "*copy = %d: everything released", mode);
}

static void new_cb_return(int ret)
{
    SSL_CTX *sctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_OFF);
    long base = sesscache_live_sessions();
    int i;

    kept = NULL;
    new_ret = ret;
    SSL_CTX_sess_set_new_cb(sctx, keep_new_cb);
    for (i = 0; i < 50; i++) {
        SSL *c = tu_ssl(cctx, 0), *s = tu_ssl(sctx, 1);

        sesscache_handshake(c, s);
        SSL_free(c);
        SSL_free(s);
    }
    /* Returning 1 the application holds the last session; returning 0 nothing is left. */
    CHECK_EQ(sesscache_live_sessions() - base, ret ? 1 : 0, "new_cb returning %d: 50 handshakes leave %d sessions",
             ret, ret);
    SSL_SESSION_free(kept);
    kept = NULL;
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    CHECK_EQ(sesscache_live_sessions(), base, "new_cb returning %d: everything released", ret);
}

/* ---- 5. callbacks that re-enter the cache ---- */

static SSL_CTX *re_ctx;
static int re_depth, re_calls;

static void reenter_remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    re_calls++;
    if (re_depth++ < 2) {
        SSL_SESSION *fresh = tu_sess((unsigned char)(0x90 + re_depth), 32, (long)time(NULL), 1);

        SSL_CTX_add_session(ctx, fresh); /* may evict again: nested eviction */
        SSL_SESSION_free(fresh);
        SSL_CTX_remove_session(ctx, sess);
        SSL_CTX_flush_sessions(ctx, 0);
        SSL_CTX_sess_number(ctx);
    }
    re_depth--;
}

static int reenter_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);

    re_calls++;
    SSL_CTX_add_session(ctx, sess); /* already cached: repositioned */
    SSL_CTX_remove_session(ctx, sess);
    SSL_CTX_add_session(ctx, sess);
    return 0;
}

static SSL_SESSION *reenter_get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);

    (void)copy;
    re_calls++;
    SSL_has_matching_session_id(ssl, id, (unsigned)len);
    SSL_CTX_flush_sessions(ctx, 0);
    return NULL;
}

static void reentrant_callbacks(void)
{
    long t = (long)time(NULL), base = sesscache_live_sessions();
    SSL_CTX *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_OFF);
    int i;

    tu_section("callbacks re-entering the cache never deadlock");
    re_ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(re_ctx, 3);
    SSL_CTX_sess_set_remove_cb(re_ctx, reenter_remove_cb);
    SSL_CTX_sess_set_new_cb(re_ctx, reenter_new_cb);
    SSL_CTX_sess_set_get_cb(re_ctx, reenter_get_cb);
    re_calls = 0;
    for (i = 0; i < 20; i++) {
        SSL_SESSION *s = tu_sess((unsigned char)i, 32, t, 100 + i);
        SSL *c = tu_ssl(cctx, 0), *sv = tu_ssl(re_ctx, 1);
        unsigned char id[32];

        SSL_CTX_add_session(re_ctx, s); /* evicts: remove_cb re-enters */
        SSL_SESSION_free(s);
        sesscache_handshake(c, sv); /* new_cb re-enters */
        sesscache_handshake_start(sv);
        tu_id(id, 0xee, 32);
        sesscache_server_lookup(sv, id, 32); /* miss: get_cb re-enters */
        SSL_free(c);
        SSL_free(sv);
    }
    CHECK(re_calls >= 60, "every callback ran and re-entered (%d calls), and nothing hung", re_calls);
    CHECK(SSL_CTX_sess_number(re_ctx) <= 3, "the re-entered cache still respects its size");
    SSL_CTX_free(re_ctx);
    SSL_CTX_free(cctx);
    CHECK_EQ(sesscache_live_sessions(), base, "re-entering callbacks: nothing leaked");
}

int main(void)
{
    tu_begin("test_regressions", 60);
    bounded_growth();
    tu_section("openssl#6222: remove_cb that frees the application's reference or re-enters");
    remove_cb_frees(0);
    remove_cb_frees(1);
    tu_section("the get callback's *copy, both ways; the new callback's return, both ways");
    get_cb_copy(1);
    get_cb_copy(0);
    new_cb_return(0);
    new_cb_return(1);
    reentrant_callbacks();
    return tu_done();
}
