/*
 * test_modes.c - every SSL_SESS_CACHE_* mode through the handshake driver, with exact
 * counters and callback counts (spec §4.7-§4.12, Appendix A.3). c_tests/handshakes.c
 * compares the driver with real TLS transcript by transcript; this program asserts the values.
 */
#include "testutil.h"

/* ---- callback state for one server and one client context ---- */

#define EXT_MAX 8

struct side {
    SSL_CTX *ctx;
    int n_new, n_remove, n_get, n_remove_resumable;
    int new_keep;                 /* new_cb keeps its reference in ext[] */
    int get_copy0;                /* get_cb hands over a reference (*copy = 0) */
    SSL_SESSION *ext[EXT_MAX];    /* the "external cache" */
    int n_ext;
    int new_is_server;            /* SSL_is_server seen by the last new_cb */
};

static struct side SRV, CLI;

static struct side *side_of(SSL_CTX *ctx)
{
    return ctx == SRV.ctx ? &SRV : &CLI;
}

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct side *sd = side_of(SSL_get_SSL_CTX(ssl));

    sd->n_new++;
    sd->new_is_server = SSL_is_server(ssl);
    if (sd->new_keep && sd->n_ext < EXT_MAX) {
        sd->ext[sd->n_ext++] = sess;
        return 1;
    }
    return 0;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    struct side *sd = side_of(ctx);

    sd->n_remove++;
    sd->n_remove_resumable += SSL_SESSION_is_resumable(sess);
}

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    struct side *sd = side_of(SSL_get_SSL_CTX(ssl));
    int i;

    sd->n_get++;
    for (i = 0; i < sd->n_ext; i++) {
        unsigned int l;
        const unsigned char *e = SSL_SESSION_get_id(sd->ext[i], &l);

        if ((int)l == len && memcmp(e, id, l) == 0) {
            if (sd->get_copy0) {
                SSL_SESSION_up_ref(sd->ext[i]);
                *copy = 0;
            }
            return sd->ext[i];
        }
    }
    return NULL;
}

static void begin(long smode, long cmode)
{
    memset(&SRV, 0, sizeof(SRV));
    memset(&CLI, 0, sizeof(CLI));
    SRV.ctx = tu_ctx(TLS_server_method(), smode);
    CLI.ctx = tu_ctx(TLS_client_method(), cmode);
    SSL_CTX_sess_set_new_cb(SRV.ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(SRV.ctx, remove_cb);
    SSL_CTX_sess_set_new_cb(CLI.ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(CLI.ctx, remove_cb);
}

static void use_get_cb(int copy0)
{
    SRV.new_keep = 1;
    SRV.get_copy0 = copy0;
    SSL_CTX_sess_set_get_cb(SRV.ctx, get_cb);
}

static void end(void)
{
    int i;

    SSL_CTX_free(SRV.ctx);
    SSL_CTX_free(CLI.ctx);
    for (i = 0; i < SRV.n_ext; i++)
        SSL_SESSION_free(SRV.ext[i]);
    for (i = 0; i < CLI.n_ext; i++)
        SSL_SESSION_free(CLI.ext[i]);
}

struct result {
    int ok, creused, sreused;
    int ccached, scached; /* each end's session is in its own context's cache */
};

/* SSL_has_matching_session_id for the connection's own session (after a handshake the SSL's
 * version is TLS 1.2, the version of the key). */
static int own_session_cached(SSL *s)
{
    SSL_SESSION *sess = SSL_get_session(s);
    unsigned int len = 0;
    const unsigned char *id = sess != NULL ? SSL_SESSION_get_id(sess, &len) : NULL;

    return id != NULL && SSL_has_matching_session_id(s, id, len);
}

/* One connection; *cs / *ss (if non-NULL) receive a reference on the client's / server's
 * session. */
static struct result conn(SSL_SESSION *resume, SSL_SESSION **cs, SSL_SESSION **ss)
{
    SSL *c = tu_ssl(CLI.ctx, 0), *s = tu_ssl(SRV.ctx, 1);
    struct result r;

    if (resume != NULL)
        SSL_set_session(c, resume);
    r.ok = sesscache_handshake(c, s);
    r.creused = SSL_session_reused(c);
    r.sreused = SSL_session_reused(s);
    r.ccached = own_session_cached(c);
    r.scached = own_session_cached(s);
    if (cs != NULL)
        *cs = SSL_get1_session(c);
    if (ss != NULL)
        *ss = SSL_get1_session(s);
    SSL_free(c);
    SSL_free(s);
    return r;
}

static long client_counter(int which)
{
    switch (which) {
    case 0: return SSL_CTX_sess_connect(CLI.ctx);
    case 1: return SSL_CTX_sess_connect_good(CLI.ctx);
    case 2: return SSL_CTX_sess_hits(CLI.ctx);
    case 3: return SSL_CTX_sess_misses(CLI.ctx);
    default: return SSL_CTX_sess_number(CLI.ctx);
    }
}

#define CHECK_CLIENT(what, connect, good, hits, misses, number)                                            \
    CHECK(client_counter(0) == (connect) && client_counter(1) == (good) && client_counter(2) == (hits)     \
              && client_counter(3) == (misses) && client_counter(4) == (number),                           \
          "%s: client connect=%d connect_good=%d hits=%d misses=%d number=%d (got %ld %ld %ld %ld %ld)",  \
          what, connect, good, hits, misses, number, client_counter(0), client_counter(1), client_counter(2), \
          client_counter(3), client_counter(4))

/* Removes the server's cached copy of the session kept in ext[0] through a distinct object
 * with the same key, so that ext[0] itself stays resumable (as in handshakes.c). */
static void remove_internal_copy(void)
{
    SSL_SESSION *twin = SSL_SESSION_new();
    unsigned int len;
    const unsigned char *id = SSL_SESSION_get_id(SRV.ext[0], &len);

    SSL_SESSION_set1_id(twin, id, len);
    SSL_SESSION_set_protocol_version(twin, SSL_SESSION_get_protocol_version(SRV.ext[0]));
    CHECK_EQ(SSL_CTX_remove_session(SRV.ctx, twin), 1, "the internal copy is removed through a key twin");
    CHECK(SSL_SESSION_is_resumable(SRV.ext[0]) && !SSL_SESSION_is_resumable(twin),
          "the removal marks the twin, not the kept session");
    SSL_SESSION_free(twin);
}

/* ---- the modes ---- */

static void mode_server(void)
{
    SSL_SESSION *cs = NULL, *ss = NULL, *cs2 = NULL;
    struct result r;
    unsigned int cl, sl;
    const unsigned char *cid, *sid;

    tu_section("SSL_SESS_CACHE_SERVER (the default)");
    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    CHECK_EQ(SSL_CTX_get_session_cache_mode(SRV.ctx), SSL_SESS_CACHE_SERVER, "server: mode reads back SERVER");
    r = conn(NULL, &cs, &ss);
    CHECK(r.ok && !r.creused && !r.sreused, "server: full handshake completes, not reused");
    CHECK_STATS(SRV.ctx, STATS(1, 1, 1, 0, 0, 0, 0, 0), "server: after the full handshake");
    CHECK_CLIENT("server: after the full handshake", 1, 1, 0, 0, 0);
    CHECK(SRV.n_new == 1 && SRV.new_is_server == 1 && CLI.n_new == 0, "server: server new_cb once, client's never");
    cid = SSL_SESSION_get_id(cs, &cl);
    sid = SSL_SESSION_get_id(ss, &sl);
    CHECK(cl == 32 && sl == 32 && memcmp(cid, sid, 32) == 0, "server: client adopts the server's 32-byte id");
    CHECK(SSL_SESSION_is_resumable(cs) && SSL_SESSION_is_resumable(ss), "server: both sessions resumable");
    CHECK_EQ(SSL_SESSION_get_protocol_version(cs), TLS1_2_VERSION, "server: the session is TLS 1.2");
    CHECK(r.scached && !r.ccached, "server: the session is in the server cache only");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.creused && r.sreused, "server: resumption on both ends");
    CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 1, 0, 0, 0, 0), "server: after the resumption");
    CHECK_CLIENT("server: after the resumption", 2, 2, 1, 0, 0);
    CHECK_EQ(SRV.n_new, 1, "server: no new_cb for a resumed session");
    r = conn(NULL, &cs2, NULL);
    CHECK_EQ(SSL_CTX_sess_number(SRV.ctx), 2, "server: a second full handshake caches a second session");
    CHECK_EQ(SRV.n_remove, 0, "server: no remove_cb so far");
    SSL_SESSION_free(cs);
    SSL_SESSION_free(cs2);
    SSL_SESSION_free(ss);
    end();
    CHECK_EQ(SRV.n_remove, 2, "server: SSL_CTX_free calls remove_cb for both cached sessions");
    CHECK_EQ(SRV.n_remove_resumable, 0, "server: every session passed to remove_cb is already not resumable");
}

static void mode_off(void)
{
    SSL_SESSION *cs = NULL, *ss = NULL, *old = NULL;
    struct result r;

    tu_section("SSL_SESS_CACHE_OFF");
    begin(SSL_SESS_CACHE_OFF, SSL_SESS_CACHE_OFF);
    r = conn(NULL, &cs, &ss);
    CHECK(r.ok && !r.sreused, "off: full handshake completes");
    CHECK_STATS(SRV.ctx, STATS(0, 1, 1, 0, 0, 0, 0, 0), "off: nothing cached");
    CHECK(SRV.n_new == 0 && CLI.n_new == 0, "off: no new_cb on either end");
    CHECK(tu_id_len(ss) == 0 && tu_id_len(cs) == 0, "off: the server sends an empty session id");
    CHECK(!SSL_SESSION_is_resumable(cs), "off: the client's session is not resumable");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && !r.creused && !r.sreused, "off: nothing to resume");
    CHECK_STATS(SRV.ctx, STATS(0, 2, 2, 0, 0, 0, 0, 0), "off: an empty id is never looked up (no miss)");
    CHECK_CLIENT("off: client", 2, 2, 0, 0, 0);
    SSL_SESSION_free(cs);
    SSL_SESSION_free(ss);
    end();

    /* A session cached while the mode was SERVER still resumes after OFF: lookups ignore it. */
    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    conn(NULL, &old, NULL);
    CHECK_EQ(SSL_CTX_set_session_cache_mode(SRV.ctx, SSL_SESS_CACHE_OFF), SSL_SESS_CACHE_SERVER,
             "off: set_session_cache_mode returns the previous mode");
    r = conn(old, NULL, NULL);
    CHECK(r.ok && r.creused && r.sreused, "off: a session cached before OFF is still resumed");
    CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 1, 0, 0, 0, 0), "off: lookup in OFF mode counts the hit");
    SSL_SESSION_free(old);
    end();
}

static void mode_client(void)
{
    SSL_SESSION *cs = NULL, *ss = NULL;
    struct result r;

    tu_section("SSL_SESS_CACHE_CLIENT");
    /* On a server context CLIENT means: no server caching, an empty id. */
    begin(SSL_SESS_CACHE_CLIENT, SSL_SESS_CACHE_CLIENT);
    r = conn(NULL, &cs, &ss);
    CHECK(r.ok, "client/client: handshake completes");
    CHECK_STATS(SRV.ctx, STATS(0, 1, 1, 0, 0, 0, 0, 0), "client/client: the server caches nothing");
    CHECK(tu_id_len(ss) == 0 && tu_id_len(cs) == 0, "client/client: empty session id from the server");
    CHECK(SRV.n_new == 0 && CLI.n_new == 0 && SSL_CTX_sess_number(CLI.ctx) == 0,
          "client/client: an empty-id session is not cached by the client either");
    SSL_SESSION_free(cs);
    SSL_SESSION_free(ss);
    end();

    /* A SERVER server and a CLIENT client: the client caches its session and calls new_cb. */
    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_CLIENT);
    r = conn(NULL, &cs, NULL);
    CHECK(r.ok, "server/client: full handshake");
    CHECK_CLIENT("server/client: after the full handshake", 1, 1, 0, 0, 1);
    CHECK(CLI.n_new == 1 && CLI.new_is_server == 0, "server/client: client new_cb once, from a client SSL");
    CHECK(r.ccached && r.scached, "server/client: the session is in the client cache (and the server's)");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.creused, "server/client: resumption");
    CHECK_CLIENT("server/client: after the resumption", 2, 2, 1, 0, 1);
    CHECK_EQ(CLI.n_new, 1, "server/client: no client new_cb for a resumed session");
    SSL_SESSION_free(cs);
    end();
    CHECK_EQ(CLI.n_remove, 1, "server/client: SSL_CTX_free of the client context removes its session");
}

static void mode_both(void)
{
    SSL_SESSION *cs = NULL;
    struct result r;

    tu_section("SSL_SESS_CACHE_BOTH");
    begin(SSL_SESS_CACHE_BOTH, SSL_SESS_CACHE_BOTH);
    r = conn(NULL, &cs, NULL);
    CHECK(r.ok, "both: full handshake");
    CHECK_STATS(SRV.ctx, STATS(1, 1, 1, 0, 0, 0, 0, 0), "both: server caches");
    CHECK_CLIENT("both: client caches", 1, 1, 0, 0, 1);
    CHECK(SRV.n_new == 1 && CLI.n_new == 1, "both: new_cb once on each end");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.creused && r.sreused, "both: resumption");
    CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 1, 0, 0, 0, 0), "both: server after the resumption");
    CHECK_CLIENT("both: client after the resumption", 2, 2, 1, 0, 1);
    CHECK(SRV.n_new == 1 && CLI.n_new == 1, "both: no new_cb for the resumed session");
    SSL_SESSION_free(cs);
    end();
}

/* External cache modes (A.3): new_cb keeps the session, get_cb returns it. */
static void mode_no_internal_lookup(void)
{
    SSL_SESSION *cs = NULL;
    struct result r;
    int copy0;

    tu_section("SSL_SESS_CACHE_NO_INTERNAL_LOOKUP");
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP, SSL_SESS_CACHE_SERVER);
    conn(NULL, &cs, NULL);
    CHECK_STATS(SRV.ctx, STATS(1, 1, 1, 0, 0, 0, 0, 0), "no-lookup: the session is still stored");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && !r.creused && !r.sreused, "no-lookup: without get_cb the cached session is not found");
    CHECK_STATS(SRV.ctx, STATS(2, 2, 2, 0, 0, 0, 0, 0), "no-lookup: no miss counted, a second session stored");
    CHECK_CLIENT("no-lookup: the client counts the miss", 2, 2, 0, 1, 0);
    SSL_SESSION_free(cs);
    end();

    for (copy0 = 0; copy0 <= 1; copy0++) {
        begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP, SSL_SESS_CACHE_SERVER);
        use_get_cb(copy0);
        conn(NULL, &cs, NULL);
        r = conn(cs, NULL, NULL);
        CHECK(r.ok && r.creused && r.sreused, "no-lookup copy=%d: get_cb's session resumes", !copy0);
        CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 1, 0, 1, 0, 0), copy0 ? "no-lookup copy=0: first resumption" : "no-lookup copy=1: first resumption");
        r = conn(cs, NULL, NULL);
        CHECK_STATS(SRV.ctx, STATS(1, 3, 3, 2, 0, 2, 0, 0), copy0 ? "no-lookup copy=0: each resumption asks get_cb" : "no-lookup copy=1: each resumption asks get_cb");
        CHECK_EQ(SRV.n_get, 2, "no-lookup copy=%d: get_cb called twice", !copy0);
        SSL_SESSION_free(cs);
        end();
    }
}

static void mode_no_internal_store(void)
{
    SSL_SESSION *cs = NULL;
    struct result r;
    int copy0;

    tu_section("SSL_SESS_CACHE_NO_INTERNAL_STORE");
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE, SSL_SESS_CACHE_SERVER);
    r = conn(NULL, &cs, NULL);
    CHECK(r.ok, "no-store: full handshake");
    CHECK_STATS(SRV.ctx, STATS(0, 1, 1, 0, 0, 0, 0, 0), "no-store: nothing stored");
    CHECK_EQ(SRV.n_new, 1, "no-store: new_cb still runs");
    CHECK(tu_id_len(cs) == 32 && SSL_SESSION_is_resumable(cs), "no-store: the session id is still sent");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && !r.sreused, "no-store: without get_cb, no resumption");
    CHECK_STATS(SRV.ctx, STATS(0, 2, 2, 0, 1, 0, 0, 0), "no-store: the failed lookup is a miss");
    SSL_SESSION_free(cs);
    end();

    for (copy0 = 0; copy0 <= 1; copy0++) {
        begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE, SSL_SESS_CACHE_SERVER);
        use_get_cb(copy0);
        conn(NULL, &cs, NULL);
        r = conn(cs, NULL, NULL);
        CHECK(r.ok && r.sreused, "no-store copy=%d: get_cb's session resumes", !copy0);
        CHECK_STATS(SRV.ctx, STATS(0, 2, 2, 1, 1, 1, 0, 0), copy0 ? "no-store copy=0: miss, cb_hit, hit, not stored" : "no-store copy=1: miss, cb_hit, hit, not stored");
        r = conn(cs, NULL, NULL);
        CHECK_STATS(SRV.ctx, STATS(0, 3, 3, 2, 2, 2, 0, 0), copy0 ? "no-store copy=0: the same again" : "no-store copy=1: the same again");
        SSL_SESSION_free(cs);
        end();
    }
}

static void mode_no_internal(void)
{
    SSL_SESSION *cs = NULL;
    struct result r;

    tu_section("SSL_SESS_CACHE_NO_INTERNAL");
    CHECK_EQ(SSL_SESS_CACHE_NO_INTERNAL, SSL_SESS_CACHE_NO_INTERNAL_LOOKUP | SSL_SESS_CACHE_NO_INTERNAL_STORE,
             "no-internal: is LOOKUP | STORE");
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL, SSL_SESS_CACHE_SERVER);
    use_get_cb(0);
    r = conn(NULL, &cs, NULL);
    CHECK(r.ok && SRV.n_new == 1 && SRV.n_ext == 1, "no-internal: new_cb receives the session");
    CHECK_STATS(SRV.ctx, STATS(0, 1, 1, 0, 0, 0, 0, 0), "no-internal: nothing stored");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.creused && r.sreused, "no-internal: resumed through get_cb");
    CHECK_STATS(SRV.ctx, STATS(0, 2, 2, 1, 0, 1, 0, 0), "no-internal: no miss, one cb_hit, nothing stored");
    SSL_CTX_sess_set_get_cb(SRV.ctx, NULL);
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && !r.sreused, "no-internal: without get_cb nothing resumes");
    CHECK_STATS(SRV.ctx, STATS(0, 3, 3, 1, 0, 1, 0, 0), "no-internal: still no miss counted");
    SSL_SESSION_free(cs);
    end();
}

/* ---- auto-flush during every 256th completed handshake (§4.9) ---- */

/* `n` full handshakes, each server session backdated past its timeout afterwards; returns the
 * number that completed. */
static int backdated_handshakes(int n, int backdate_client)
{
    int i, ok = 0;
    long past = (long)time(NULL) - 10000;

    for (i = 0; i < n; i++) {
        SSL_SESSION *cs = NULL, *ss = NULL;

        ok += conn(NULL, &cs, &ss).ok;
        SSL_SESSION_set_time(backdate_client ? cs : ss, past);
        SSL_SESSION_free(cs);
        SSL_SESSION_free(ss);
    }
    return ok;
}

static void auto_flush(void)
{
    SSL_SESSION *cs = NULL;
    struct result r;

    tu_section("auto-flush and SSL_SESS_CACHE_NO_AUTO_CLEAR");
    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    CHECK_EQ(backdated_handshakes(255, 0), 255, "auto-flush: 255 handshakes complete");
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 255 && SRV.n_remove == 0,
          "auto-flush: 255 expired sessions survive the 255th handshake (number=%ld remove_cb=%d)",
          SSL_CTX_sess_number(SRV.ctx), SRV.n_remove);
    backdated_handshakes(1, 0);
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 1 && SRV.n_remove == 255,
          "auto-flush: the 256th handshake flushes the 255 expired ones (number=%ld remove_cb=%d)",
          SSL_CTX_sess_number(SRV.ctx), SRV.n_remove);
    CHECK_EQ(SSL_CTX_sess_timeouts(SRV.ctx), 0, "auto-flush: a flush does not count timeouts");
    backdated_handshakes(255, 0);
    CHECK_EQ(SRV.n_remove, 255, "auto-flush: nothing more during handshakes 257..511");
    backdated_handshakes(1, 0);
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 1 && SRV.n_remove == 511,
          "auto-flush: the 512th handshake flushes again (number=%ld remove_cb=%d)", SSL_CTX_sess_number(SRV.ctx),
          SRV.n_remove);
    end();

    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR, SSL_SESS_CACHE_SERVER);
    backdated_handshakes(300, 0);
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 300 && SRV.n_remove == 0,
          "no-auto-clear: 300 expired sessions stay (number=%ld remove_cb=%d)", SSL_CTX_sess_number(SRV.ctx),
          SRV.n_remove);
    SSL_CTX_flush_sessions(SRV.ctx, (long)time(NULL));
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 0 && SRV.n_remove == 300, "no-auto-clear: an explicit flush removes them");
    end();

    /* The check runs even when the 256th handshake is a resumption (no store, still a flush). */
    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    backdated_handshakes(254, 0);
    conn(NULL, &cs, NULL);
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 255 && SRV.n_remove == 0, "auto-flush: 255 handshakes, one live session");
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.sreused, "auto-flush: the 256th handshake is a resumption");
    CHECK(SSL_CTX_sess_number(SRV.ctx) == 1 && SRV.n_remove == 254,
          "auto-flush: it still flushes the 254 expired sessions (number=%ld remove_cb=%d)",
          SSL_CTX_sess_number(SRV.ctx), SRV.n_remove);
    SSL_SESSION_free(cs);
    end();

    /* The client side counts connect_good and flushes its own cache (mode CLIENT). */
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR, SSL_SESS_CACHE_CLIENT);
    backdated_handshakes(255, 1);
    CHECK(SSL_CTX_sess_number(CLI.ctx) == 255 && CLI.n_remove == 0, "client auto-flush: 255 sessions after 255");
    backdated_handshakes(1, 1);
    CHECK(SSL_CTX_sess_number(CLI.ctx) == 1 && CLI.n_remove == 255,
          "client auto-flush: the 256th client handshake flushes (number=%ld remove_cb=%d)",
          SSL_CTX_sess_number(CLI.ctx), CLI.n_remove);
    CHECK_EQ(SSL_CTX_sess_number(SRV.ctx), 256, "client auto-flush: the NO_AUTO_CLEAR server kept all 256");
    end();
}

/* ---- SSL_SESS_CACHE_UPDATE_TIME ---- */

static void update_time(void)
{
    SSL_SESSION *a, *b, *c, *cs = NULL, *ss = NULL;
    long now = (long)time(NULL), t;
    struct result r;

    tu_section("SSL_SESS_CACHE_UPDATE_TIME");
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME, SSL_SESS_CACHE_SERVER);
    a = tu_sess(0xa1, 32, now - 1000, 7200);
    CHECK_EQ(SSL_CTX_add_session(SRV.ctx, a), 1, "update-time: add returns 1");
    CHECK(SSL_SESSION_get_time(a) >= now, "update-time: add stamps the time with now");
    SSL_SESSION_set_time(a, now - 500);
    CHECK_EQ(SSL_CTX_add_session(SRV.ctx, a), 0, "update-time: re-add of a cached session returns 0");
    CHECK(SSL_SESSION_get_time(a) >= now, "update-time: ... and stamps it again");
    SSL_SESSION_free(a);
    end();

    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    a = tu_sess(0xa2, 32, now - 1000, 7200);
    SSL_CTX_add_session(SRV.ctx, a);
    CHECK_EQ(SSL_SESSION_get_time(a), now - 1000, "without update-time: add keeps the session's time");
    SSL_SESSION_free(a);
    end();

    /* The stamp moves a re-added session to the head of the expiry order. */
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(SRV.ctx, 3); /* holds 2 */
    a = tu_sess(0xa3, 32, now, 7200);
    b = tu_sess(0xb3, 32, now, 7200);
    c = tu_sess(0xc3, 32, now, 7200);
    SSL_CTX_add_session(SRV.ctx, a);
    SSL_CTX_add_session(SRV.ctx, b);
    SSL_SESSION_set_time(a, now - 100); /* a becomes the earliest expiry ... */
    SSL_CTX_add_session(SRV.ctx, a);    /* ... until the re-add stamps it */
    SSL_CTX_add_session(SRV.ctx, c);
    CHECK(SSL_SESSION_is_resumable(a) && !SSL_SESSION_is_resumable(b) && SSL_SESSION_is_resumable(c),
          "update-time: the stamped re-add saves a, b is evicted");
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    end();

    /* A.3: an internal-cache hit does not refresh the time. */
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME, SSL_SESS_CACHE_SERVER);
    conn(NULL, &cs, &ss);
    t = (long)time(NULL) - 100;
    SSL_SESSION_set_time(ss, t);
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.sreused, "update-time: internal hit resumes");
    CHECK_EQ(SSL_SESSION_get_time(ss), t, "update-time: internal hit leaves the time unchanged");
    SSL_SESSION_free(cs);
    SSL_SESSION_free(ss);
    end();

    /* The external-cache path re-adds the session, which stamps it (§4.7). */
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME, SSL_SESS_CACHE_SERVER);
    use_get_cb(0);
    conn(NULL, &cs, NULL);
    remove_internal_copy();
    t = (long)time(NULL) - 100;
    SSL_SESSION_set_time(SRV.ext[0], t);
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.sreused, "update-time: get_cb's session resumes");
    CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 1, 1, 1, 0, 0), "update-time: external hit stored back");
    CHECK(SSL_SESSION_get_time(SRV.ext[0]) > t, "update-time: the store-back stamps the external session");
    SSL_SESSION_free(cs);
    end();

    /* Even an expired external session: the store-back stamps it before the expiry check, so
     * it resumes without a timeout (checked against OpenSSL 3.0.19 with real TLS). */
    begin(SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME, SSL_SESS_CACHE_SERVER);
    use_get_cb(1);
    conn(NULL, &cs, NULL);
    remove_internal_copy();
    t = (long)time(NULL) - 10000;
    SSL_SESSION_set_time(SRV.ext[0], t);
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && r.sreused, "update-time: an expired external session is revived and resumes");
    CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 1, 1, 1, 0, 0), "update-time: no timeout counted for the revived one");
    SSL_SESSION_free(cs);
    end();

    /* Without UPDATE_TIME the same expired external session times out and is removed. */
    begin(SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    use_get_cb(1);
    conn(NULL, &cs, NULL);
    remove_internal_copy();
    SSL_SESSION_set_time(SRV.ext[0], t);
    r = conn(cs, NULL, NULL);
    CHECK(r.ok && !r.sreused, "expired external session: full handshake");
    CHECK_STATS(SRV.ctx, STATS(1, 2, 2, 0, 1, 1, 1, 0), "expired external session: cb_hit then timeout");
    CHECK(!SSL_SESSION_is_resumable(SRV.ext[0]) && SRV.n_remove == 2,
          "expired external session: removed (remove_cb: twin, then it) and marked not resumable");
    SSL_SESSION_free(cs);
    end();
}

int main(void)
{
    tu_begin("test_modes", 120);
    mode_server();
    mode_off();
    mode_client();
    mode_both();
    mode_no_internal_lookup();
    mode_no_internal_store();
    mode_no_internal();
    auto_flush();
    update_time();
    return tu_done();
}
