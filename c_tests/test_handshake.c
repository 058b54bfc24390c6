/*
 * test_handshake.c - the handshake step functions (sesscache_handshake_start, _server_lookup,
 * _server_new_session, _handshake_done) driven by hand on the server side, and the behaviours
 * around them: expiry on lookup, sid_ctx mismatch, SSL_VERIFY_PEER without sid_ctx, the
 * generate_session_id callback (short id, failure, bad length, conflict), renegotiation.
 */
#include "testutil.h"

static int n_new, n_remove, n_remove_resumable, n_gen;
static SSL_SESSION *last_removed;

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    (void)sess;
    n_new++;
    return 0;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    (void)ctx;
    n_remove++;
    n_remove_resumable += SSL_SESSION_is_resumable(sess);
    last_removed = sess;
}

static SSL_CTX *server_ctx(void)
{
    SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);

    n_new = n_remove = n_remove_resumable = n_gen = 0;
    last_removed = NULL;
    SSL_CTX_sess_set_new_cb(ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    return ctx;
}

/* A whole server-side full handshake with the step functions; returns a reference on the
 * new session (NULL if a step failed). */
static SSL_SESSION *server_full(SSL_CTX *ctx)
{
    SSL *s = tu_ssl(ctx, 1);
    SSL_SESSION *sess = NULL;

    if (sesscache_handshake_start(s) == 1 && sesscache_server_lookup(s, NULL, 0) == 0
        && sesscache_server_new_session(s) == 1 && sesscache_handshake_done(s) == 1)
        sess = SSL_get1_session(s);
    SSL_free(s);
    return sess;
}

/* A server-side resumption attempt for `sess`'s id: the lookup's result. */
static int server_resume(SSL_CTX *ctx, SSL_SESSION *sess, int *reused)
{
    SSL *s = tu_ssl(ctx, 1);
    unsigned int len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    int r;

    sesscache_handshake_start(s);
    r = sesscache_server_lookup(s, id, len);
    if (r == 0)
        sesscache_server_new_session(s);
    if (r >= 0)
        sesscache_handshake_done(s);
    if (reused != NULL)
        *reused = SSL_session_reused(s);
    SSL_free(s);
    return r;
}

static void steps(void)
{
    SSL_CTX *ctx = server_ctx();
    SSL *s = tu_ssl(ctx, 1), *s2;
    SSL_SESSION *sess, *other;
    unsigned char id[33], mk[64], sid_ctx[4] = { 's', 'i', 'd', '1' };
    unsigned int len, sclen;
    const unsigned char *p;

    tu_section("the step functions");
    CHECK_EQ(SSL_version(s), TLS1_3_VERSION, "steps: a fresh SSL reports TLS 1.3");
    CHECK_EQ(SSL_is_server(s), 1, "steps: SSL of a server method is a server");
    CHECK_EQ(sesscache_handshake_start(s), 1, "steps: start returns 1");
    CHECK_EQ(SSL_version(s), TLS1_2_VERSION, "steps: start negotiates TLS 1.2");
    CHECK_STATS(ctx, STATS(0, 1, 0, 0, 0, 0, 0, 0), "steps: start counts an accept");
    CHECK_EQ(sesscache_server_lookup(s, NULL, 0), 0, "steps: an empty id is not found");
    tu_id(id, 0x42, 32);
    CHECK_EQ(sesscache_server_lookup(s, id, 32), 0, "steps: an unknown id is not found");
    CHECK_STATS(ctx, STATS(0, 1, 0, 0, 1, 0, 0, 0), "steps: one miss for the unknown id, none for the empty one");
    CHECK_EQ(SSL_get_session(s), NULL, "steps: no session before new_session");
    SSL_CTX_set_timeout(ctx, 500);
    SSL_set_session_id_context(s, sid_ctx, sizeof(sid_ctx));
    CHECK_EQ(sesscache_server_new_session(s), 1, "steps: new_session returns 1");
    sess = SSL_get_session(s);
    CHECK(sess != NULL && tu_id_len(sess) == 32, "steps: the new session has a 32-byte id");
    CHECK_EQ(SSL_SESSION_get_protocol_version(sess), TLS1_2_VERSION, "steps: ... version TLS 1.2");
    CHECK_EQ(SSL_SESSION_get_timeout(sess), 500, "steps: ... the context's timeout");
    CHECK(labs(SSL_SESSION_get_time(sess) - (long)time(NULL)) <= 2, "steps: ... time now");
    CHECK_EQ(SSL_SESSION_get_master_key(sess, NULL, 0), 48, "steps: ... a 48-byte master key");
    CHECK_EQ(SSL_SESSION_get_master_key(sess, mk, sizeof(mk)), 48, "steps: get_master_key copies 48 bytes");
    p = SSL_SESSION_get0_id_context(sess, &sclen);
    CHECK(sclen == 4 && memcmp(p, sid_ctx, 4) == 0, "steps: ... the SSL's session-id context");
    CHECK(SSL_SESSION_is_resumable(sess), "steps: ... resumable");
    CHECK_EQ(SSL_CTX_sess_number(ctx), 0, "steps: not cached before done");
    CHECK_EQ(sesscache_handshake_done(s), 1, "steps: done returns 1");
    CHECK_STATS(ctx, STATS(1, 1, 1, 0, 1, 0, 0, 0), "steps: done caches and counts accept_good");
    CHECK_EQ(n_new, 1, "steps: new_cb once");
    p = SSL_SESSION_get_id(sess, &len);
    memcpy(id, p, len);
    CHECK_EQ(SSL_has_matching_session_id(s, id, len), 1, "steps: has_matching_session_id finds it");
    CHECK_EQ(SSL_has_matching_session_id(s, id, len - 1), 0, "steps: ... not with a shorter id");
    CHECK_EQ(SSL_has_matching_session_id(s, id, 33), 0, "steps: ... not with 33 bytes");

    /* A second SSL resumes it. */
    s2 = tu_ssl(ctx, 1);
    CHECK_EQ(sesscache_server_lookup(s2, id, len), 0, "steps: lookup before start uses version 0x0304: no match");
    CHECK_EQ(SSL_CTX_sess_misses(ctx), 2, "steps: ... counted as a miss");
    sesscache_handshake_start(s2);
    CHECK_EQ(sesscache_server_lookup(s2, id, len), 0, "steps: a different sid_ctx on the SSL: not resumed");
    CHECK_STATS(ctx, STATS(1, 2, 1, 0, 2, 0, 0, 0), "steps: sid_ctx mismatch counts neither hit nor miss");
    SSL_set_session_id_context(s2, sid_ctx, sizeof(sid_ctx));
    CHECK_EQ(sesscache_server_lookup(s2, id, len), 1, "steps: same sid_ctx: resumed");
    CHECK(SSL_get_session(s2) == sess && SSL_session_reused(s2) == 1, "steps: the cached object becomes the session");
    CHECK_EQ(sesscache_handshake_done(s2), 1, "steps: done after the resumption");
    CHECK_STATS(ctx, STATS(1, 2, 2, 1, 2, 0, 0, 0), "steps: one hit");
    CHECK_EQ(n_new, 1, "steps: no new_cb for a resumption");

    /* Renegotiation on an SSL that completed a handshake. */
    CHECK_EQ(sesscache_handshake_start(s2), 1, "steps: a second start on the same SSL");
    CHECK_EQ(SSL_session_reused(s2), 0, "steps: start clears session_reused");
    CHECK(SSL_CTX_sess_accept(ctx) == 2 && SSL_CTX_sess_accept_renegotiate(ctx) == 1,
          "steps: it counts accept_renegotiate, not accept");
    CHECK_EQ(sesscache_server_new_session(s2), 1, "steps: a new session during renegotiation");
    other = SSL_get_session(s2);
    CHECK(other != sess && tu_id_len(other) == 32, "steps: a different session with a fresh id");
    sesscache_handshake_done(s2);
    CHECK(SSL_CTX_sess_accept_good(ctx) == 3 && SSL_CTX_sess_number(ctx) == 2, "steps: renegotiation completes");

    /* The client role: connect counters. */
    {
        SSL *c = tu_ssl(ctx, 0);

        CHECK_EQ(SSL_is_server(c), 0, "steps: set_connect_state makes a client");
        sesscache_handshake_start(c);
        sesscache_handshake_done(c);
        sesscache_handshake_start(c);
        CHECK(SSL_CTX_sess_connect(ctx) == 1 && SSL_CTX_sess_connect_good(ctx) == 1
                  && SSL_CTX_sess_connect_renegotiate(ctx) == 1,
              "steps: client start/done/start: connect 1, connect_good 1, connect_renegotiate 1");
        SSL_free(c);
    }
    SSL_free(s);
    SSL_free(s2);
    SSL_CTX_free(ctx);
    CHECK_EQ(n_remove, 2, "steps: SSL_CTX_free removes both");
}

static void expiry(void)
{
    SSL_CTX *ctx = server_ctx();
    SSL_SESSION *a = server_full(ctx), *b = server_full(ctx);
    long now = (long)time(NULL);
    int reused = -1;

    tu_section("expiry on lookup");
    CHECK(a != NULL && b != NULL && SSL_CTX_sess_number(ctx) == 2, "expiry: two sessions cached");
    SSL_SESSION_set_time(a, now - 7300); /* timeout 7200 */
    CHECK_EQ(server_resume(ctx, a, &reused), 0, "expiry: an expired session is not resumed");
    CHECK_STATS(ctx, STATS(2, 3, 3, 0, 0, 0, 1, 0), "expiry: one timeout, no miss; a new session replaces it");
    CHECK(n_remove == 1 && last_removed == a && n_remove_resumable == 0,
          "expiry: remove_cb got the expired session, already not resumable");
    CHECK(!SSL_SESSION_is_resumable(a) && SSL_SESSION_is_resumable(b), "expiry: only the expired one is marked");
    CHECK_EQ(server_resume(ctx, a, &reused), 0, "expiry: a second attempt finds nothing");
    CHECK(SSL_CTX_sess_misses(ctx) == 1 && SSL_CTX_sess_timeouts(ctx) == 1, "expiry: ... and counts a miss");
    CHECK(server_resume(ctx, b, &reused) == 1 && reused == 1, "expiry: the live session still resumes");
    SSL_SESSION_set_timeout(b, 0);
    SSL_SESSION_set_time(b, now - 5);
    CHECK_EQ(server_resume(ctx, b, NULL), 0, "expiry: timeout 0 makes it expired");
    CHECK_EQ(SSL_CTX_sess_timeouts(ctx), 2, "expiry: second timeout");
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    /* A negative context timeout makes every new session born expired (checked against
     * OpenSSL 3.0.19 with real TLS). */
    ctx = server_ctx();
    CHECK_EQ(SSL_CTX_set_timeout(ctx, -5), 7200, "expiry: set_timeout returns the previous 7200");
    CHECK_EQ(SSL_CTX_get_timeout(ctx), -5, "expiry: a negative context timeout is stored");
    a = server_full(ctx);
    CHECK_EQ(SSL_SESSION_get_timeout(a), -5, "expiry: the session gets timeout -5");
    CHECK_EQ(server_resume(ctx, a, NULL), 0, "expiry: born expired, never resumed");
    CHECK_EQ(SSL_CTX_sess_timeouts(ctx), 1, "expiry: counted as a timeout");
    SSL_CTX_set_timeout(ctx, 0);
    b = server_full(ctx);
    CHECK_EQ(SSL_SESSION_get_timeout(b), 7200, "expiry: context timeout 0 gives the default 7200");
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);
}

static void sid_ctx_and_verify(void)
{
    SSL_CTX *sctx = server_ctx(), *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_SERVER);
    SSL *c, *s;
    SSL_SESSION *cs;
    int ok;

    tu_section("sid_ctx mismatch and SSL_VERIFY_PEER without sid_ctx");
    CHECK_EQ(SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"A", 1), 1, "sid_ctx: set \"A\"");
    c = tu_ssl(cctx, 0);
    s = tu_ssl(sctx, 1);
    sesscache_handshake(c, s);
    cs = SSL_get1_session(c);
    SSL_free(c);
    SSL_free(s);
    c = tu_ssl(cctx, 0);
    s = tu_ssl(sctx, 1);
    SSL_set_session(c, cs);
    SSL_set_session_id_context(s, (const unsigned char *)"B", 1);
    ok = sesscache_handshake(c, s);
    CHECK(ok && !SSL_session_reused(s), "sid_ctx: \"B\" does not resume an \"A\" session");
    CHECK_STATS(sctx, STATS(2, 2, 2, 0, 0, 0, 0, 0), "sid_ctx: no hit, no miss, the old entry stays");
    CHECK_EQ(n_remove, 0, "sid_ctx: no remove_cb");
    SSL_free(c);
    SSL_free(s);
    c = tu_ssl(cctx, 0);
    s = tu_ssl(sctx, 1);
    SSL_set_session(c, cs);
    CHECK(sesscache_handshake(c, s) && SSL_session_reused(s), "sid_ctx: \"A\" again resumes");
    SSL_free(c);
    SSL_free(s);
    SSL_SESSION_free(cs);
    SSL_CTX_free(sctx);

    /* VERIFY_PEER on a server without a session-id context: resumption is fatal. */
    sctx = server_ctx();
    c = tu_ssl(cctx, 0);
    s = tu_ssl(sctx, 1);
    sesscache_handshake(c, s);
    cs = SSL_get1_session(c);
    SSL_free(c);
    SSL_free(s);
    c = tu_ssl(cctx, 0);
    s = tu_ssl(sctx, 1);
    SSL_set_session(c, cs);
    SSL_set_verify(s, SSL_VERIFY_PEER, NULL);
    CHECK_EQ(SSL_get_verify_mode(s), SSL_VERIFY_PEER, "verify: mode stored");
    CHECK_EQ(sesscache_handshake(c, s), 0, "verify: the resumption attempt fails the handshake");
    CHECK_STATS(sctx, STATS(1, 2, 1, 0, 0, 0, 0, 0), "verify: accept counted, accept_good not");
    CHECK(!SSL_SESSION_is_resumable(cs), "verify: the client's offered session is removed (fatal alert)");
    SSL_free(c);
    SSL_free(s);
    /* The step function says -1; a full handshake with VERIFY_PEER caches nothing. */
    {
        unsigned int len;
        const unsigned char *id = SSL_SESSION_get_id(cs, &len);

        s = tu_ssl(sctx, 1);
        SSL_set_verify(s, SSL_VERIFY_PEER, NULL);
        sesscache_handshake_start(s);
        CHECK_EQ(sesscache_server_lookup(s, id, len), -1, "verify: server_lookup returns -1");
        CHECK_EQ(sesscache_server_lookup(s, NULL, 0), 0, "verify: an empty id is simply not found");
        sesscache_server_new_session(s);
        sesscache_handshake_done(s);
        CHECK(SSL_CTX_sess_number(sctx) == 1 && n_new == 1,
              "verify: the new session is not cached, no new_cb (number=%ld new_cb=%d)", SSL_CTX_sess_number(sctx),
              n_new);
        SSL_free(s);
        /* With a sid_ctx on the SSL, VERIFY_PEER is fine (the session's sid_ctx differs). */
        s = tu_ssl(sctx, 1);
        SSL_set_verify(s, SSL_VERIFY_PEER, NULL);
        SSL_set_session_id_context(s, (const unsigned char *)"V", 1);
        sesscache_handshake_start(s);
        CHECK_EQ(sesscache_server_lookup(s, id, len), 0, "verify: with a sid_ctx the lookup is a plain mismatch");
        SSL_free(s);
    }
    SSL_SESSION_free(cs);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

/* ---- generate_session_id ---- */

static int gen_mode;          /* 0 short id, 1 fail, 2 length 0, 3 length 33, 4 fixed 32 */
static unsigned gen_len_in;   /* *id_len on entry */
static int gen_zeroed;        /* the id buffer was zeroed on entry */

static int gen_cb(SSL *ssl, unsigned char *id, unsigned int *id_len)
{
    unsigned i;

    (void)ssl;
    n_gen++;
    gen_len_in = *id_len;
    gen_zeroed = 1;
    for (i = 0; i < *id_len && i < 32; i++)
        gen_zeroed &= id[i] == 0;
    switch (gen_mode) {
    case 0:
        memcpy(id, "ABCD", 4);
        *id_len = 4;
        return 1;
    case 1:
        return 0;
    case 2:
        *id_len = 0;
        return 1;
    case 3:
        *id_len = 33;
        return 1;
    default:
        memset(id, 0x5a, 32);
        return 1;
    }
}

static int gen_other_cb(SSL *ssl, unsigned char *id, unsigned int *id_len)
{
    (void)ssl;
    memcpy(id, "OTHER", 5);
    *id_len = 5;
    return 1;
}

static void gen_id(void)
{
    SSL_CTX *ctx = server_ctx(), *cctx = tu_ctx(TLS_client_method(), SSL_SESS_CACHE_SERVER);
    SSL_SESSION *a, *cs;
    SSL *s, *c;
    const unsigned char *p;
    unsigned int len;

    tu_section("generate_session_id callback");
    CHECK_EQ(SSL_CTX_set_generate_session_id(ctx, gen_cb), 1, "gen: set returns 1");
    gen_mode = 0;
    a = server_full(ctx);
    CHECK(a != NULL && n_gen == 1, "gen: the callback makes the id");
    CHECK(gen_len_in == 32 && gen_zeroed, "gen: called with *id_len 32 and a zeroed buffer");
    p = a != NULL ? SSL_SESSION_get_id(a, &len) : NULL;
    CHECK(p != NULL && len == 4 && memcmp(p, "ABCD", 4) == 0, "gen: a short 4-byte id is used as is");
    CHECK_EQ(SSL_CTX_sess_number(ctx), 1, "gen: the short-id session is cached");
    CHECK(server_resume(ctx, a, NULL) == 1, "gen: and resumes");

    /* The same id again: a conflict, the handshake fails. */
    s = tu_ssl(ctx, 1);
    sesscache_handshake_start(s);
    CHECK_EQ(sesscache_server_new_session(s), 0, "gen: an id already cached is a conflict (new_session 0)");
    CHECK_EQ(SSL_get_session(s), NULL, "gen: no session after the failure");
    SSL_free(s);
    c = tu_ssl(cctx, 0);
    s = tu_ssl(ctx, 1);
    CHECK_EQ(sesscache_handshake(c, s), 0, "gen: the driver's handshake fails on the conflict");
    CHECK(SSL_CTX_sess_accept_good(ctx) == 2 && SSL_CTX_sess_number(ctx) == 1, "gen: nothing completed or cached");
    SSL_free(c);
    SSL_free(s);

    gen_mode = 1;
    s = tu_ssl(ctx, 1);
    sesscache_handshake_start(s);
    CHECK_EQ(sesscache_server_new_session(s), 0, "gen: a callback returning 0 fails");
    SSL_free(s);
    gen_mode = 2;
    s = tu_ssl(ctx, 1);
    sesscache_handshake_start(s);
    CHECK_EQ(sesscache_server_new_session(s), 0, "gen: length 0 fails");
    SSL_free(s);
    gen_mode = 3;
    s = tu_ssl(ctx, 1);
    sesscache_handshake_start(s);
    CHECK_EQ(sesscache_server_new_session(s), 0, "gen: length 33 fails");
    SSL_free(s);
    gen_mode = 4;
    cs = server_full(ctx);
    CHECK(cs != NULL && tu_id_len(cs) == 32 && tu_tag(cs) == 0x5a, "gen: length 32 is accepted");
    CHECK_EQ(SSL_CTX_remove_session(ctx, cs), 1, "gen: (the fixed 32-byte session removed again)");
    SSL_SESSION_free(cs);

    gen_mode = 0;
    SSL_CTX_remove_session(ctx, a);
    CHECK_EQ(SSL_CTX_sess_number(ctx), 0, "gen: the ABCD session removed, the cache is empty");
    cs = server_full(ctx);
    CHECK(cs != NULL && tu_id_len(cs) == 4, "gen: after removal the short id can be made again");
    SSL_SESSION_free(cs);

    /* SSL_new copies the context's callback; a later change affects only new SSLs, and an SSL
     * made with no callback uses the context's current one. */
    s = tu_ssl(ctx, 1); /* copies gen_cb */
    SSL_CTX_set_generate_session_id(ctx, gen_other_cb);
    sesscache_handshake_start(s);
    gen_mode = 4;
    sesscache_server_new_session(s);
    CHECK_EQ(tu_tag(SSL_get_session(s)), 0x5a, "gen: an SSL keeps the callback copied at SSL_new");
    SSL_free(s);
    SSL_CTX_set_generate_session_id(ctx, NULL);
    s = tu_ssl(ctx, 1); /* no callback of its own */
    SSL_CTX_set_generate_session_id(ctx, gen_other_cb);
    sesscache_handshake_start(s);
    sesscache_server_new_session(s);
    p = SSL_SESSION_get_id(SSL_get_session(s), &len);
    CHECK(len == 5 && memcmp(p, "OTHER", 5) == 0, "gen: an SSL without a callback uses the context's current one");
    SSL_free(s);
    CHECK_EQ(SSL_CTX_set_generate_session_id(ctx, NULL), 1, "gen: NULL restores the default");
    n_gen = 0;
    cs = server_full(ctx);
    CHECK(cs != NULL && tu_id_len(cs) == 32 && n_gen == 0, "gen: the default makes 32 random bytes");
    SSL_SESSION_free(cs);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);
    SSL_CTX_free(cctx);
}

int main(void)
{
    tu_begin("test_handshake", 60);
    steps();
    expiry();
    sid_ctx_and_verify();
    gen_id();
    return tu_done();
}
