/*
 * test_callbacks.c - reference counts across the get callback (*copy = 1 and 0) and the new
 * callback (returning 0 and 1), eviction order and the N-1 capacity, flush, and a remove
 * callback that re-enters the API during eviction, flush, explicit removal, expiry and
 * SSL_CTX_free (sesscache runs callbacks outside its locks; OpenSSL 3.0 would fail or hang).
 * Reference counts are observed through sesscache_live_sessions().
 */
#include "testutil.h"

/* ---- reference counts: get_cb and new_cb ---- */

static SSL_SESSION *store;  /* the external cache: one session */
static int get_copy0;       /* get_cb sets *copy = 0 after an up_ref */
static int new_ret;         /* what new_cb returns */
static int n_new, n_get;

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    n_new++;
    if (new_ret == 1)
        store = sess; /* keeps the reference it was given */
    return new_ret;
}

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    (void)id;
    (void)len;
    n_get++;
    if (*copy != 1)
        return NULL; /* preset to 1 by the library; anything else is a failure seen below */
    if (store != NULL && get_copy0) {
        SSL_SESSION_up_ref(store);
        *copy = 0;
    }
    return store;
}

/* One handshake; returns 1 if the server resumed. */
static int hs(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *resume, SSL_SESSION **cs)
{
    SSL *c = tu_ssl(cctx, 0), *s = tu_ssl(sctx, 1);
    int reused;

    if (resume != NULL)
        SSL_set_session(c, resume);
    sesscache_handshake(c, s);
    reused = SSL_session_reused(s);
    if (cs != NULL)
        *cs = SSL_get1_session(c);
    SSL_free(c);
    SSL_free(s);
    return reused;
}

static void refs_get_cb(int copy0, long mode)
{
    SSL_CTX *sctx = tu_ctx(TLS_server_method(), mode), *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_SERVER);
    SSL_SESSION *cs = NULL, *twin;
    long base = sesscache_live_sessions();
    const char *m = (mode & SSL_SESS_CACHE_NO_INTERNAL_STORE) ? "no-store" : "store";
    unsigned int len;
    const unsigned char *id;

    store = NULL;
    get_copy0 = copy0;
    new_ret = 1;
    n_new = n_get = 0;
    SSL_CTX_sess_set_new_cb(sctx, new_cb);
    SSL_CTX_sess_set_get_cb(sctx, get_cb);
    hs(cctx, sctx, NULL, &cs);
    CHECK(store != NULL && n_new == 1, "get_cb copy=%d %s: new_cb kept the session", !copy0, m);
    /* Take the internal copy out through a twin so that the store's object stays resumable. */
    twin = SSL_SESSION_new();
    id = SSL_SESSION_get_id(store, &len);
    SSL_SESSION_set1_id(twin, id, len);
    SSL_SESSION_set_protocol_version(twin, TLS1_2_VERSION);
    SSL_CTX_remove_session(sctx, twin);
    SSL_SESSION_free(twin);
    CHECK(hs(cctx, sctx, cs, NULL) && n_get == 1, "get_cb copy=%d %s: resumed from get_cb", !copy0, m);
    CHECK(hs(cctx, sctx, cs, NULL), "get_cb copy=%d %s: resumed again", !copy0, m);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    /* Left: our client session and the store's reference. A leaked library reference keeps
     * more alive; an extra release would have freed the store's session already. */
    if (CHECK_EQ(sesscache_live_sessions() - base, 2, "get_cb copy=%d %s: only our 2 references remain", !copy0, m)) {
        SSL_SESSION_free(store);
        SSL_SESSION_free(cs);
    }
    CHECK_EQ(sesscache_live_sessions(), base, "get_cb copy=%d %s: everything released", !copy0, m);
}

static void refs_new_cb(int ret)
{
    SSL_CTX *sctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
    SSL_CTX *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_SERVER);
    long base = sesscache_live_sessions();

    store = NULL;
    new_ret = ret;
    n_new = 0;
    SSL_CTX_sess_set_new_cb(sctx, new_cb);
    hs(cctx, sctx, NULL, NULL);
    CHECK_EQ(n_new, 1, "new_cb returning %d: called once", ret);
    CHECK_EQ(SSL_CTX_sess_number(sctx), 1, "new_cb returning %d: the session stays cached either way", ret);
    CHECK_EQ(sesscache_live_sessions() - base, 1, "new_cb returning %d: one session alive", ret);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    if (ret) {
        if (CHECK_EQ(sesscache_live_sessions() - base, 1, "new_cb returning 1: the application's reference "
                                                          "keeps it alive after SSL_CTX_free"))
            SSL_SESSION_free(store);
    }
    CHECK_EQ(sesscache_live_sessions(), base, "new_cb returning %d: nothing alive at the end", ret);
}

/* ---- eviction order, N-1 capacity, flush ---- */

static int order[64];
static int n_order;
static int rm_resumable;

static void record_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    (void)ctx;
    if (n_order < 64)
        order[n_order++] = tu_tag(sess);
    rm_resumable += SSL_SESSION_is_resumable(sess);
}

static SSL_CTX *recording_ctx(long size)
{
    SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);

    SSL_CTX_sess_set_remove_cb(ctx, record_cb);
    if (size >= 0)
        SSL_CTX_sess_set_cache_size(ctx, size);
    n_order = rm_resumable = 0;
    return ctx;
}

static int order_is(const int *want, int n)
{
    return n_order == n && (n == 0 || memcmp(order, want, (size_t)n * sizeof(int)) == 0);
}

/* Six adds (ids 0x10..0x15, the given timeouts), the numbers and cache_full after each. */
static void six_adds(long size, const long *timeouts, const long *numbers, const long *full, const int *victims,
                     int n_victims, const char *what)
{
    SSL_CTX *ctx = recording_ctx(size);
    SSL_SESSION *s[6];
    long t = (long)time(NULL);
    int i, ok_num = 1, ok_full = 1, ok_res = 1;

    for (i = 0; i < 6; i++) {
        s[i] = tu_sess((unsigned char)(0x10 + i), 32, t, timeouts[i]);
        CHECK_EQ(SSL_CTX_add_session(ctx, s[i]), 1, "%s: add #%d is new", what, i);
        ok_num &= SSL_CTX_sess_number(ctx) == numbers[i];
        ok_full &= SSL_CTX_sess_cache_full(ctx) == full[i];
    }
    CHECK(ok_num, "%s: numbers after each add %ld,%ld,%ld,%ld,%ld,%ld", what, numbers[0], numbers[1], numbers[2],
          numbers[3], numbers[4], numbers[5]);
    CHECK(ok_full, "%s: cache_full after each add %ld,%ld,%ld,%ld,%ld,%ld", what, full[0], full[1], full[2], full[3],
          full[4], full[5]);
    CHECK(order_is(victims, n_victims) && rm_resumable == 0,
          "%s: remove_cb sees the victims in eviction order, already not resumable (%d victims)", what, n_victims);
    for (i = 0; i < 6; i++) {
        int evicted = 0, j;

        for (j = 0; j < n_victims; j++)
            evicted |= victims[j] == 0x10 + i;
        ok_res &= SSL_SESSION_is_resumable(s[i]) == !evicted;
    }
    CHECK(ok_res, "%s: victims not resumable, survivors resumable", what);
    for (i = 0; i < 6; i++)
        SSL_SESSION_free(s[i]);
    SSL_CTX_free(ctx);
}

static void eviction(void)
{
    static const long t100[6] = { 100, 100, 100, 100, 100, 100 };
    static const long tdesc[6] = { 800, 700, 600, 500, 400, 300 };
    static const long tmix[6] = { 100, 900, 50, 700, 20, 600 };
    static const long n3[6] = { 1, 2, 2, 2, 2, 2 }, f3[6] = { 0, 0, 1, 2, 3, 4 };
    static const long n1[6] = { 1, 1, 1, 1, 1, 1 }, f1[6] = { 0, 1, 2, 3, 4, 5 };
    static const long n4[6] = { 1, 2, 3, 3, 3, 3 }, f4[6] = { 0, 0, 0, 1, 2, 3 };
    static const long n0[6] = { 1, 2, 3, 4, 5, 6 }, f0[6] = { 0, 0, 0, 0, 0, 0 };
    static const int v3[4] = { 0x10, 0x11, 0x12, 0x13 }, v1[5] = { 0x10, 0x11, 0x12, 0x13, 0x14 };
    static const int vdesc[4] = { 0x11, 0x12, 0x13, 0x14 }, vmix[3] = { 0x12, 0x10, 0x14 };
    SSL_CTX *ctx;
    SSL_SESSION *a, *b, *c, *d;
    long t = (long)time(NULL);

    tu_section("eviction order and N-1 capacity (A.2)");
    six_adds(3, t100, n3, f3, v3, 4, "N=3 equal timeouts");
    six_adds(1, t100, n1, f1, v1, 5, "N=1");
    six_adds(2, t100, n1, f1, v1, 5, "N=2 behaves like N=1");
    six_adds(3, tdesc, n3, f3, vdesc, 4, "N=3 timeouts 800..300: the newest always survives");
    six_adds(4, tmix, n4, f4, vmix, 3, "N=4 timeouts 100,900,50,700,20,600");
    six_adds(0, t100, n0, f0, NULL, 0, "N=0 is unlimited");

    /* set_time on a cached session repositions it (3.0). */
    ctx = recording_ctx(3);
    a = tu_sess(0xa0, 32, t, 100);
    b = tu_sess(0xb0, 32, t, 200);
    c = tu_sess(0xc0, 32, t, 300);
    d = tu_sess(0xd0, 32, t, 50);
    SSL_CTX_sess_set_cache_size(ctx, 0);
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, b);
    SSL_CTX_add_session(ctx, c);
    SSL_CTX_sess_set_cache_size(ctx, 3);
    CHECK_EQ(SSL_CTX_sess_number(ctx), 3, "reposition: shrinking the size evicts nothing by itself");
    SSL_SESSION_set_timeout(a, 1000);
    SSL_CTX_add_session(ctx, d);
    {
        static const int want[2] = { 0xb0, 0xc0 };

        CHECK(order_is(want, 2), "reposition: after a's timeout grew to 1000, b and c are the victims");
    }
    CHECK(SSL_SESSION_is_resumable(a) && SSL_SESSION_is_resumable(d), "reposition: a and the new d survive");
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
    SSL_CTX_free(ctx);
}

static void flush(void)
{
    SSL_CTX *ctx = recording_ctx(-1);
    long t = (long)time(NULL);
    SSL_SESSION *a = tu_sess(0xa1, 32, t, 0), *b = tu_sess(0xb1, 32, t, 10), *c = tu_sess(0xc1, 32, t, 20);
    SSL_SESSION *d = tu_sess(0xd1, 32, t, 30);

    tu_section("flush");
    SSL_CTX_add_session(ctx, c);
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, b);
    SSL_CTX_add_session(ctx, d);
    SSL_CTX_flush_sessions(ctx, t - 1);
    CHECK(SSL_CTX_sess_number(ctx) == 4 && n_order == 0, "flush: nothing expired at t-1");
    SSL_CTX_flush_sessions(ctx, t + 9);
    CHECK(SSL_CTX_sess_number(ctx) == 3 && n_order == 1 && order[0] == 0xa1, "flush(t+9) removes the one of t+0");
    SSL_CTX_flush_sessions(ctx, t + 10);
    CHECK_EQ(SSL_CTX_sess_number(ctx), 3, "flush(t+10) removes nothing: expiry is strict");
    SSL_CTX_flush_sessions(ctx, t + 21);
    CHECK(SSL_CTX_sess_number(ctx) == 1 && n_order == 3 && order[1] == 0xb1 && order[2] == 0xc1,
          "flush(t+21) removes t+10 then t+20, earliest expiry first");
    CHECK(!SSL_SESSION_is_resumable(a) && !SSL_SESSION_is_resumable(c) && SSL_SESSION_is_resumable(d),
          "flush: flushed sessions are not resumable, the live one is");
    CHECK_EQ(SSL_CTX_sess_timeouts(ctx), 0, "flush: never counts timeouts");
    SSL_CTX_flush_sessions(ctx, -1);
    CHECK_EQ(SSL_CTX_sess_number(ctx), 1, "flush(-1) removes nothing");
    SSL_CTX_flush_sessions(ctx, 0);
    CHECK(SSL_CTX_sess_number(ctx) == 0 && n_order == 4 && order[3] == 0xd1, "flush(0) removes everything");
    CHECK_EQ(rm_resumable, 0, "flush: remove_cb never sees a resumable session");
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, d);
    SSL_CTX_add_session(ctx, b);
    SSL_CTX_free(ctx);
    CHECK(n_order == 7 && order[4] == 0xa1 && order[5] == 0xb1 && order[6] == 0xd1,
          "SSL_CTX_free: remove_cb for each cached session, earliest expiry first");
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
}

/* ---- a remove callback that re-enters the API ---- */

static SSL *re_ssl;               /* a TLS 1.2 SSL of the context, for has_matching */
static SSL_SESSION *re_extra[4];  /* sessions the callback removes / adds */
static int re_depth, re_calls, re_max_depth;
static long re_number_seen[16];
static int re_matching_seen[16];
static int re_remove_ret[16];
static int re_add_ret[16];
static int re_flush;              /* the callback also flushes */
static int re_add;                /* the callback also re-adds re_extra[1] */

static void reenter_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    unsigned int len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    int k = re_calls < 16 ? re_calls : 15;

    re_calls++;
    re_depth++;
    if (re_depth > re_max_depth)
        re_max_depth = re_depth;
    re_number_seen[k] = SSL_CTX_sess_number(ctx);
    re_matching_seen[k] = re_ssl != NULL ? SSL_has_matching_session_id(re_ssl, id, len) : -1;
    if (re_depth == 1 && re_calls == 1) {
        /* Only the first call re-enters; nested calls run this callback again (depth 2). */
        re_remove_ret[k] = re_extra[0] != NULL ? SSL_CTX_remove_session(ctx, re_extra[0]) : -1;
        re_add_ret[k] = re_add && re_extra[1] != NULL ? SSL_CTX_add_session(ctx, re_extra[1]) : -1;
        if (re_flush)
            SSL_CTX_flush_sessions(ctx, 0);
    }
    re_depth--;
}

static void re_reset(void)
{
    re_calls = re_depth = re_max_depth = 0;
    re_flush = re_add = 0;
    memset(re_extra, 0, sizeof(re_extra));
    memset(re_number_seen, 0, sizeof(re_number_seen));
    memset(re_remove_ret, 0, sizeof(re_remove_ret));
    memset(re_add_ret, 0, sizeof(re_add_ret));
}

static SSL_CTX *reenter_ctx(long size)
{
    SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);

    SSL_CTX_sess_set_remove_cb(ctx, reenter_cb);
    SSL_CTX_sess_set_cache_size(ctx, size);
    re_ssl = tu_ssl(ctx, 1);
    sesscache_handshake_start(re_ssl); /* TLS 1.2 */
    re_reset();
    return ctx;
}

/* Frees the probe SSL first (remove_cb must not use it any more), then the context. */
static void re_done(SSL_CTX *ctx)
{
    SSL_free(re_ssl);
    re_ssl = NULL;
    SSL_CTX_free(ctx);
}

static void reentrant(void)
{
    long t = (long)time(NULL), base = sesscache_live_sessions();
    SSL_SESSION *a = tu_sess(0xa2, 32, t, 100), *b = tu_sess(0xb2, 32, t, 200), *c = tu_sess(0xc2, 32, t, 300);
    SSL_SESSION *x = tu_sess(0xe2, 32, t, 400), *y = tu_sess(0xf2, 32, t, 500);
    SSL_CTX *ctx;

    tu_section("remove_cb re-entering the API");

    /* Eviction: cache of size 3 (holds 2) with a, x; adding b evicts a. */
    ctx = reenter_ctx(3);
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, x);
    re_extra[0] = x;
    re_extra[1] = y;
    re_add = 1;
    CHECK_EQ(SSL_CTX_add_session(ctx, b), 1, "re-enter eviction: the add returns 1");
    CHECK(re_calls == 2 && re_max_depth == 2, "re-enter eviction: remove_cb for a, nested once for x (calls=%d)",
          re_calls);
    CHECK(re_number_seen[0] == 2 && re_matching_seen[0] == 0,
          "re-enter eviction: inside, the state after the whole add (number 2, a gone)");
    CHECK(re_remove_ret[0] == 1 && re_add_ret[0] == 1, "re-enter eviction: nested remove(x) and add(y) succeed");
    CHECK(SSL_CTX_sess_number(ctx) == 2 && !SSL_SESSION_is_resumable(a) && !SSL_SESSION_is_resumable(x),
          "re-enter eviction: b and y cached, a evicted, x removed");
    re_done(ctx);

    /* Flush, with a nested flush and add inside the first callback. */
    ctx = reenter_ctx(0);
    SSL_SESSION_set_timeout(a, 100);
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, b);
    SSL_CTX_add_session(ctx, c);
    re_extra[1] = y;
    re_add = 1;
    re_flush = 1;
    SSL_CTX_flush_sessions(ctx, 0);
    CHECK(re_number_seen[0] == 0 && re_matching_seen[0] == 0,
          "re-enter flush: the first callback sees the cache already emptied");
    CHECK(re_add_ret[0] == 1 && re_calls == 4,
          "re-enter flush: its add(y) succeeds and its nested flush removes y (calls=%d)", re_calls);
    CHECK_EQ(SSL_CTX_sess_number(ctx), 0, "re-enter flush: empty at the end");
    re_done(ctx);

    /* Explicit remove: the callback removes the same session again, nested. */
    ctx = reenter_ctx(0);
    SSL_CTX_add_session(ctx, c);
    re_extra[0] = c;
    CHECK_EQ(SSL_CTX_remove_session(ctx, c), 1, "re-enter remove: returns 1");
    CHECK(re_calls == 2 && re_remove_ret[0] == 0 && re_matching_seen[0] == 0 && re_number_seen[0] == 0,
          "re-enter remove: nested remove of the same session returns 0 and calls remove_cb again");
    re_done(ctx);

    /* Expiry on a lookup: the timeout removal runs remove_cb, which re-enters. */
    ctx = reenter_ctx(0);
    SSL_SESSION_set_time(b, t - 1000);
    SSL_CTX_add_session(ctx, b);
    SSL_CTX_add_session(ctx, x);
    re_extra[0] = x;
    {
        unsigned int len;
        const unsigned char *id = SSL_SESSION_get_id(b, &len);
        SSL *s = tu_ssl(ctx, 1);

        sesscache_handshake_start(s);
        CHECK_EQ(sesscache_server_lookup(s, id, len), 0, "re-enter expiry: expired on lookup");
        CHECK(re_calls == 2 && re_remove_ret[0] == 1 && SSL_CTX_sess_number(ctx) == 0,
              "re-enter expiry: remove_cb ran and its nested remove(x) worked");
        SSL_free(s);
    }
    re_done(ctx);

    /* SSL_CTX_free: remove_cb queries, removes, adds and flushes on the dying context. */
    ctx = reenter_ctx(0);
    SSL_free(re_ssl);
    re_ssl = NULL;
    SSL_SESSION_set_time(b, t);
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, b);
    re_extra[0] = x;
    re_extra[1] = y;
    re_add = 1;
    re_flush = 1;
    SSL_CTX_free(ctx);
    CHECK(re_calls == 4 && re_number_seen[0] == 0 && re_add_ret[0] == 1 && re_remove_ret[0] == 0,
          "re-enter SSL_CTX_free: a, nested x (remove) and y (add+flush), b: no deadlock (calls=%d)", re_calls);
    re_reset();

    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(x);
    SSL_SESSION_free(y);
    CHECK_EQ(sesscache_live_sessions(), base, "re-enter: every session released (nothing leaked by nested adds)");
}

/* Eviction inside a handshake (sesscache_handshake_done adds, evicts, runs remove_cb). */
static void reentrant_handshake(void)
{
    SSL_CTX *sctx = reenter_ctx(2), *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_SERVER);
    int i, ok = 1;

    for (i = 0; i < 4; i++)
        ok &= hs(cctx, sctx, NULL, NULL) == 0;
    CHECK(ok && re_calls == 3 && SSL_CTX_sess_number(sctx) == 1 && SSL_CTX_sess_cache_full(sctx) == 3,
          "re-enter in handshakes: 4 full handshakes into a size-2 cache, remove_cb 3 times (calls=%d)", re_calls);
    CHECK(re_number_seen[2] == 1, "re-enter in handshakes: remove_cb sees the cache after the add");
    re_done(sctx);
    SSL_CTX_free(cctx);
}

int main(void)
{
    tu_begin("test_callbacks", 60);
    tu_section("reference counts");
    refs_get_cb(0, SSL_SESS_CACHE_SERVER);
    refs_get_cb(1, SSL_SESS_CACHE_SERVER);
    refs_get_cb(0, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    refs_get_cb(1, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    refs_new_cb(0);
    refs_new_cb(1);
    eviction();
    flush();
    reentrant();
    reentrant_handshake();
    return tu_done();
}
