/*
 * test_badinput.c - every function of include/sesscache.h with NULL for each pointer argument,
 * oversized (33) and zero lengths, negative sizes and timeouts, unknown SSL_CTX_ctrl commands
 * and NULL callbacks: each returns its documented failure value and changes nothing.
 */
#include "testutil.h"

static int cb_new(SSL *s, SSL_SESSION *x)
{
    (void)s;
    (void)x;
    return 0;
}

static void cb_remove(SSL_CTX *c, SSL_SESSION *x)
{
    (void)c;
    (void)x;
}

static SSL_SESSION *cb_get(SSL *s, const unsigned char *d, int l, int *copy)
{
    (void)s;
    (void)d;
    (void)l;
    (void)copy;
    return NULL;
}

static int cb_gen(SSL *s, unsigned char *id, unsigned int *len)
{
    (void)s;
    (void)id;
    (void)len;
    return 1;
}

static void null_ctx(void)
{
    static const int cmds[] = { 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 42, 43, 44, 45 };
    unsigned char buf[4] = { 1, 2, 3, 4 };
    SSL_SESSION *s = tu_sess(0x11, 32, (long)time(NULL), 100);
    size_t i;
    int all = 1;

    tu_section("NULL SSL_CTX");
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        all &= SSL_CTX_ctrl(NULL, cmds[i], 5, buf) == 0;
    CHECK(all, "SSL_CTX_ctrl(NULL, every session command) returns 0");
    CHECK_EQ(SSL_CTX_set_session_cache_mode(NULL, 3), 0, "set_session_cache_mode(NULL)");
    CHECK_EQ(SSL_CTX_get_session_cache_mode(NULL), 0, "get_session_cache_mode(NULL)");
    CHECK_EQ(SSL_CTX_sess_set_cache_size(NULL, 5), 0, "sess_set_cache_size(NULL)");
    CHECK_EQ(SSL_CTX_sess_get_cache_size(NULL), 0, "sess_get_cache_size(NULL)");
    CHECK(SSL_CTX_sess_number(NULL) == 0 && SSL_CTX_sess_connect(NULL) == 0 && SSL_CTX_sess_connect_good(NULL) == 0
              && SSL_CTX_sess_connect_renegotiate(NULL) == 0 && SSL_CTX_sess_accept(NULL) == 0
              && SSL_CTX_sess_accept_good(NULL) == 0 && SSL_CTX_sess_accept_renegotiate(NULL) == 0
              && SSL_CTX_sess_hits(NULL) == 0 && SSL_CTX_sess_cb_hits(NULL) == 0 && SSL_CTX_sess_misses(NULL) == 0
              && SSL_CTX_sess_timeouts(NULL) == 0 && SSL_CTX_sess_cache_full(NULL) == 0,
          "every statistics function returns 0 for NULL");
    CHECK(SSL_CTX_new(NULL) == NULL, "SSL_CTX_new(NULL) is NULL");
    CHECK_EQ(SSL_CTX_up_ref(NULL), 0, "SSL_CTX_up_ref(NULL)");
    SSL_CTX_free(NULL);
    CHECK(1, "SSL_CTX_free(NULL) does nothing");
    CHECK_EQ(SSL_CTX_set_timeout(NULL, 5), 0, "SSL_CTX_set_timeout(NULL)");
    CHECK_EQ(SSL_CTX_get_timeout(NULL), 0, "SSL_CTX_get_timeout(NULL)");
    CHECK_EQ(SSL_CTX_set_session_id_context(NULL, buf, 4), 0, "SSL_CTX_set_session_id_context(NULL, ...)");
    CHECK_EQ(SSL_CTX_add_session(NULL, s), 0, "SSL_CTX_add_session(NULL, s)");
    CHECK_EQ(SSL_CTX_remove_session(NULL, s), 0, "SSL_CTX_remove_session(NULL, s)");
    CHECK(SSL_SESSION_is_resumable(s), "... and leaves the session resumable");
    SSL_CTX_flush_sessions(NULL, 0);
    CHECK(1, "SSL_CTX_flush_sessions(NULL) does nothing");
    CHECK_EQ(SSL_CTX_set_generate_session_id(NULL, cb_gen), 0, "SSL_CTX_set_generate_session_id(NULL, cb)");
    SSL_CTX_sess_set_new_cb(NULL, cb_new);
    SSL_CTX_sess_set_remove_cb(NULL, cb_remove);
    SSL_CTX_sess_set_get_cb(NULL, cb_get);
    CHECK(SSL_CTX_sess_get_new_cb(NULL) == NULL && SSL_CTX_sess_get_remove_cb(NULL) == NULL
              && SSL_CTX_sess_get_get_cb(NULL) == NULL,
          "the callback getters return NULL for NULL (the setters ignore it)");
    CHECK(SSL_new(NULL) == NULL, "SSL_new(NULL) is NULL");
    SSL_SESSION_free(s);
}

static void null_ssl(void)
{
    SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
    SSL *ssl = tu_ssl(ctx, 1), *other = tu_ssl(ctx, 0);
    SSL_SESSION *s = tu_sess(0x22, 32, (long)time(NULL), 100);
    unsigned char id[33];

    tu_section("NULL SSL and bad lengths on SSL functions");
    tu_id(id, 0x22, 33);
    SSL_free(NULL);
    CHECK_EQ(SSL_up_ref(NULL), 0, "SSL_up_ref(NULL)");
    CHECK(SSL_get_SSL_CTX(NULL) == NULL, "SSL_get_SSL_CTX(NULL)");
    CHECK(SSL_get_SSL_CTX(ssl) == ctx, "SSL_get_SSL_CTX(ssl) is its context");
    CHECK_EQ(SSL_version(NULL), 0, "SSL_version(NULL)");
    CHECK_EQ(SSL_set_session_id_context(NULL, id, 4), 0, "SSL_set_session_id_context(NULL, ...)");
    CHECK_EQ(SSL_set_session_id_context(ssl, NULL, 4), 0, "SSL_set_session_id_context(ssl, NULL, 4)");
    CHECK_EQ(SSL_set_session_id_context(ssl, id, 33), 0, "SSL_set_session_id_context(ssl, id, 33)");
    CHECK_EQ(SSL_set_session_id_context(ssl, id, 32), 1, "SSL_set_session_id_context(ssl, id, 32)");
    CHECK_EQ(SSL_set_session_id_context(ssl, NULL, 0), 1, "SSL_set_session_id_context(ssl, NULL, 0) clears it");
    CHECK_EQ(SSL_set_session(NULL, s), 0, "SSL_set_session(NULL, s)");
    CHECK_EQ(SSL_set_session(ssl, NULL), 1, "SSL_set_session(ssl, NULL) is allowed");
    CHECK(SSL_get_session(NULL) == NULL && SSL_get1_session(NULL) == NULL, "SSL_get_session/get1_session(NULL)");
    CHECK(SSL_get_session(ssl) == NULL && SSL_get1_session(ssl) == NULL, "no session on a fresh SSL");
    CHECK_EQ(SSL_session_reused(NULL), 0, "SSL_session_reused(NULL)");
    CHECK_EQ(SSL_has_matching_session_id(NULL, id, 32), 0, "SSL_has_matching_session_id(NULL, ...)");
    CHECK_EQ(SSL_has_matching_session_id(ssl, NULL, 5), 0, "SSL_has_matching_session_id(ssl, NULL, 5)");
    CHECK_EQ(SSL_has_matching_session_id(ssl, NULL, 0), 0, "SSL_has_matching_session_id(ssl, NULL, 0)");
    CHECK_EQ(SSL_has_matching_session_id(ssl, id, 33), 0, "SSL_has_matching_session_id(ssl, id, 33)");
    SSL_set_accept_state(NULL);
    SSL_set_connect_state(NULL);
    SSL_set_verify(NULL, SSL_VERIFY_PEER, NULL);
    CHECK(SSL_is_server(NULL) == 0 && SSL_get_verify_mode(NULL) == 0, "SSL_is_server/get_verify_mode(NULL)");
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    CHECK_EQ(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER, "SSL_set_verify with a NULL callback stores the mode");

    /* the driver */
    CHECK_EQ(sesscache_handshake_start(NULL), 0, "sesscache_handshake_start(NULL)");
    CHECK_EQ(sesscache_server_lookup(NULL, id, 32), -1, "sesscache_server_lookup(NULL, ...)");
    sesscache_handshake_start(ssl);
    CHECK_EQ(sesscache_server_lookup(ssl, NULL, 5), -1, "sesscache_server_lookup(ssl, NULL, 5)");
    CHECK_EQ(sesscache_server_lookup(ssl, id, 33), -1, "sesscache_server_lookup(ssl, id, 33)");
    CHECK_EQ(sesscache_server_lookup(ssl, NULL, 0), 0, "sesscache_server_lookup(ssl, NULL, 0) finds nothing");
    CHECK_EQ(SSL_CTX_sess_misses(ctx), 0, "... and none of these counts a miss");
    CHECK_EQ(sesscache_server_new_session(NULL), 0, "sesscache_server_new_session(NULL)");
    CHECK_EQ(sesscache_handshake_done(NULL), 0, "sesscache_handshake_done(NULL)");
    CHECK(sesscache_handshake(NULL, ssl) == 0 && sesscache_handshake(other, NULL) == 0
              && sesscache_handshake(NULL, NULL) == 0,
          "sesscache_handshake with a NULL end returns 0");
    CHECK_EQ(sesscache_handshake(ssl, ssl), 0, "sesscache_handshake(ssl, ssl) returns 0");
    CHECK(SSL_CTX_sess_accept(ctx) == 1 && SSL_CTX_sess_connect(ctx) == 0,
          "the rejected handshakes counted nothing (accept=%ld connect=%ld)", SSL_CTX_sess_accept(ctx),
          SSL_CTX_sess_connect(ctx));
    CHECK(sesscache_version() != NULL && strcmp(sesscache_version(), SESSCACHE_VERSION) == 0,
          "sesscache_version() equals SESSCACHE_VERSION");
    CHECK(TLS_method() != NULL && TLS_server_method() != NULL && TLS_client_method() != NULL, "the methods");
    SSL_free(ssl);
    SSL_free(other);
    SSL_SESSION_free(s);
    SSL_CTX_free(ctx);
}

static void null_session(void)
{
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char buf[600], out[600];
    unsigned int len = 99;
    const unsigned char *p;

    tu_section("NULL SSL_SESSION and bad lengths on SSL_SESSION functions");
    memset(buf, 0x33, sizeof(buf));
    CHECK(s != NULL, "SSL_SESSION_new is never NULL");
    CHECK_EQ(SSL_SESSION_up_ref(NULL), 0, "SSL_SESSION_up_ref(NULL)");
    SSL_SESSION_free(NULL);
    p = SSL_SESSION_get_id(NULL, &len);
    CHECK(p == NULL && len == 0, "SSL_SESSION_get_id(NULL, &len): NULL, len 0");
    CHECK(SSL_SESSION_get_id(s, NULL) != NULL, "SSL_SESSION_get_id(s, NULL) still returns the pointer");
    CHECK_EQ(SSL_SESSION_set1_id(NULL, buf, 4), 0, "SSL_SESSION_set1_id(NULL, ...)");
    CHECK_EQ(SSL_SESSION_set1_id(s, NULL, 4), 0, "SSL_SESSION_set1_id(s, NULL, 4)");
    CHECK_EQ(SSL_SESSION_set1_id(s, buf, 32), 1, "SSL_SESSION_set1_id(s, id, 32)");
    CHECK_EQ(SSL_SESSION_set1_id(s, buf, 33), 0, "SSL_SESSION_set1_id(s, id, 33)");
    CHECK_EQ(tu_id_len(s), 32, "... leaves the 32-byte id");
    CHECK(SSL_SESSION_set1_id(s, NULL, 0) == 1 && tu_id_len(s) == 0, "SSL_SESSION_set1_id(s, NULL, 0) empties it");
    len = 99;
    p = SSL_SESSION_get0_id_context(NULL, &len);
    CHECK(p == NULL && len == 0, "SSL_SESSION_get0_id_context(NULL, &len): NULL, len 0");
    CHECK_EQ(SSL_SESSION_set1_id_context(NULL, buf, 4), 0, "SSL_SESSION_set1_id_context(NULL, ...)");
    CHECK_EQ(SSL_SESSION_set1_id_context(s, NULL, 4), 0, "SSL_SESSION_set1_id_context(s, NULL, 4)");
    CHECK_EQ(SSL_SESSION_set1_id_context(s, buf, 33), 0, "SSL_SESSION_set1_id_context(s, x, 33)");
    CHECK_EQ(SSL_SESSION_set1_id_context(s, buf, 32), 1, "SSL_SESSION_set1_id_context(s, x, 32)");
    SSL_SESSION_get0_id_context(s, &len);
    CHECK_EQ(len, 32, "... stored");
    CHECK(SSL_SESSION_get_time(NULL) == 0 && SSL_SESSION_set_time(NULL, 5) == 0, "get/set_time(NULL)");
    CHECK(SSL_SESSION_set_time(s, -5) == -5 && SSL_SESSION_get_time(s) == -5,
          "SSL_SESSION_set_time accepts a negative time and returns it");
    CHECK_EQ(SSL_SESSION_set_time(s, 0), 0, "SSL_SESSION_set_time(s, 0) returns its argument 0");
    CHECK(SSL_SESSION_get_timeout(NULL) == 0 && SSL_SESSION_set_timeout(NULL, 5) == 0, "get/set_timeout(NULL)");
    CHECK_EQ(SSL_SESSION_get_timeout(s), 304, "a new session's timeout is 304");
    CHECK(SSL_SESSION_set_timeout(s, -1) == 0 && SSL_SESSION_get_timeout(s) == 304,
          "SSL_SESSION_set_timeout(s, -1) returns 0 and changes nothing");
    CHECK_EQ(SSL_SESSION_set_timeout(s, 0), 1, "SSL_SESSION_set_timeout(s, 0) is accepted");
    CHECK_EQ(SSL_SESSION_is_resumable(NULL), 0, "SSL_SESSION_is_resumable(NULL)");
    CHECK(SSL_SESSION_get_protocol_version(NULL) == 0 && SSL_SESSION_set_protocol_version(NULL, 0x303) == 0,
          "get/set_protocol_version(NULL)");
    CHECK_EQ(SSL_SESSION_get_master_key(NULL, out, 10), 0, "SSL_SESSION_get_master_key(NULL, ...)");
    CHECK_EQ(SSL_SESSION_set1_master_key(NULL, buf, 10), 0, "SSL_SESSION_set1_master_key(NULL, ...)");
    CHECK_EQ(SSL_SESSION_set1_master_key(s, NULL, 10), 0, "SSL_SESSION_set1_master_key(s, NULL, 10)");
    CHECK_EQ(SSL_SESSION_set1_master_key(s, buf, 513), 0, "SSL_SESSION_set1_master_key(s, x, 513)");
    CHECK_EQ(SSL_SESSION_set1_master_key(s, buf, 512), 1, "SSL_SESSION_set1_master_key(s, x, 512)");
    CHECK_EQ(SSL_SESSION_get_master_key(s, NULL, 0), 512, "get_master_key(s, NULL, 0) is the length");
    CHECK_EQ(SSL_SESSION_get_master_key(s, NULL, 10), 0, "get_master_key(s, NULL, 10) is 0");
    memset(out, 0, sizeof(out));
    CHECK(SSL_SESSION_get_master_key(s, out, 10) == 10 && out[9] == 0x33 && out[10] == 0,
          "get_master_key copies min(outlen, length)");
    CHECK_EQ(SSL_SESSION_get_master_key(s, out, sizeof(out)), 512, "get_master_key with a large buffer: 512");
    CHECK(SSL_SESSION_set1_master_key(s, NULL, 0) == 1 && SSL_SESSION_get_master_key(s, NULL, 0) == 0,
          "set1_master_key(s, NULL, 0) empties it");
    SSL_SESSION_free(s);
}

static void bad_values(void)
{
    SSL_CTX *ctx = tu_ctx(TLS_server_method(), SSL_SESS_CACHE_SERVER);
    static const int unknown[] = { 0, 1, 19, 32, 41, 46, 77, -1, 1000000 };
    unsigned char buf[33];
    SSL_SESSION *s = tu_sess(0x44, 32, (long)time(NULL), 100);
    SSL *ssl;
    size_t i;
    int all = 1;

    tu_section("bad values on a valid SSL_CTX");
    memset(buf, 0x55, sizeof(buf));
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        all &= SSL_CTX_ctrl(ctx, unknown[i], 7, buf) == 0;
    CHECK(all, "SSL_CTX_ctrl with unknown commands returns 0");
    CHECK(SSL_CTX_get_session_cache_mode(ctx) == SSL_SESS_CACHE_SERVER && SSL_CTX_sess_get_cache_size(ctx) == 20480
              && SSL_CTX_get_timeout(ctx) == 7200,
          "... and changes nothing (mode, size 20480, timeout 7200)");
    CHECK_EQ(SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, NULL), 20480, "ctrl 43 reads the size");
    CHECK_EQ(SSL_CTX_sess_set_cache_size(ctx, -1), 0, "sess_set_cache_size(-1) returns 0");
    CHECK_EQ(SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, -5, NULL), 0, "ctrl 42 with -5 returns 0");
    CHECK_EQ(SSL_CTX_sess_get_cache_size(ctx), 20480, "... and the size is unchanged");
    CHECK_EQ(SSL_CTX_sess_set_cache_size(ctx, 0), 20480, "sess_set_cache_size(0) returns the previous size");
    CHECK_EQ(SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, 7, NULL), 0, "ctrl 42 returns the previous 0");
    CHECK_EQ(SSL_CTX_set_session_cache_mode(ctx, -1), SSL_SESS_CACHE_SERVER, "set mode -1 returns the previous");
    CHECK_EQ(SSL_CTX_get_session_cache_mode(ctx), 4294967295L, "mode -1 reads back as 0xffffffff");
    CHECK_EQ(SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, 0x7ff, NULL), 4294967295L, "ctrl 44 returns previous");
    CHECK_EQ(SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_MODE, 0, NULL), 0x7ff, "ctrl 45 reads 0x7ff");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    CHECK_EQ(SSL_CTX_set_timeout(ctx, -10), 7200, "SSL_CTX_set_timeout(-10) returns the previous 7200");
    CHECK_EQ(SSL_CTX_get_timeout(ctx), -10, "a negative context timeout is stored unvalidated");
    CHECK_EQ(SSL_CTX_set_session_id_context(ctx, NULL, 4), 0, "SSL_CTX_set_session_id_context(ctx, NULL, 4)");
    CHECK_EQ(SSL_CTX_set_session_id_context(ctx, buf, 33), 0, "SSL_CTX_set_session_id_context(ctx, x, 33)");
    CHECK_EQ(SSL_CTX_set_session_id_context(ctx, NULL, 0), 1, "SSL_CTX_set_session_id_context(ctx, NULL, 0)");
    CHECK_EQ(SSL_CTX_add_session(ctx, NULL), 0, "SSL_CTX_add_session(ctx, NULL)");
    CHECK_EQ(SSL_CTX_remove_session(ctx, NULL), 0, "SSL_CTX_remove_session(ctx, NULL)");
    CHECK_EQ(SSL_CTX_sess_number(ctx), 0, "nothing cached by the NULL calls");

    /* NULL callbacks: installing NULL removes, handshakes still work. */
    SSL_CTX_sess_set_new_cb(ctx, cb_new);
    SSL_CTX_sess_set_remove_cb(ctx, cb_remove);
    SSL_CTX_sess_set_get_cb(ctx, cb_get);
    CHECK(SSL_CTX_sess_get_new_cb(ctx) == cb_new && SSL_CTX_sess_get_remove_cb(ctx) == cb_remove
              && SSL_CTX_sess_get_get_cb(ctx) == cb_get,
          "the callback getters return what was set");
    SSL_CTX_sess_set_new_cb(ctx, NULL);
    SSL_CTX_sess_set_remove_cb(ctx, NULL);
    SSL_CTX_sess_set_get_cb(ctx, NULL);
    CHECK_EQ(SSL_CTX_set_generate_session_id(ctx, NULL), 1, "SSL_CTX_set_generate_session_id(ctx, NULL)");
    CHECK(SSL_CTX_sess_get_new_cb(ctx) == NULL && SSL_CTX_sess_get_remove_cb(ctx) == NULL
              && SSL_CTX_sess_get_get_cb(ctx) == NULL,
          "setting NULL removes each callback");
    SSL_CTX_set_timeout(ctx, 0);
    ssl = tu_ssl(ctx, 1);
    sesscache_handshake_start(ssl);
    CHECK(sesscache_server_lookup(ssl, buf, 32) == 0 && sesscache_server_new_session(ssl) == 1
              && sesscache_handshake_done(ssl) == 1 && SSL_CTX_sess_number(ctx) == 1,
          "a handshake without any callback works");
    SSL_free(ssl);
    CHECK(SSL_CTX_add_session(ctx, s) == 1 && SSL_CTX_remove_session(ctx, s) == 1,
          "add/remove without a remove_cb");

    /* Zero-length ids. */
    {
        SSL_SESSION *z = tu_sess(0, 0, (long)time(NULL), 100);

        CHECK(!SSL_SESSION_is_resumable(z), "an empty-id session is not resumable");
        CHECK_EQ(SSL_CTX_add_session(ctx, z), 1, "an empty-id session is still accepted by add");
        ssl = tu_ssl(ctx, 1);
        sesscache_handshake_start(ssl);
        CHECK_EQ(SSL_has_matching_session_id(ssl, NULL, 0), 1,
                 "SSL_has_matching_session_id(ssl, NULL, 0) finds a cached empty id (as OpenSSL 3.0.19)");
        SSL_free(ssl);
        CHECK_EQ(SSL_CTX_remove_session(ctx, z), 0, "remove of an empty-id session returns 0");
        SSL_CTX_flush_sessions(ctx, 0);
        CHECK_EQ(SSL_CTX_sess_number(ctx), 0, "flush(0) removes the empty-id session too");
        SSL_SESSION_free(z);
    }
    SSL_SESSION_free(s);
    SSL_CTX_free(ctx);
}

int main(void)
{
    tu_begin("test_badinput", 30);
    null_ctx();
    null_ssl();
    null_session();
    bad_values();
    return tu_done();
}
