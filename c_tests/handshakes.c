/*
 * handshakes.c - TLS 1.2 (session-ID, no tickets) handshake scenarios for the
 * sesscache session cache.
 *
 * The program prints a deterministic transcript (counters, callback calls) on
 * stdout.  It is built two ways from this one source:
 *
 *   handshakes.c       (default)  every handshake is performed by the
 *                                 sesscache driver (sesscache_handshake);
 *                                 link against libsesscache.
 *   handshakes_real.c  (REAL_TLS) every handshake is a real in-memory TLS 1.2
 *                                 handshake with the system OpenSSL 3.0;
 *                                 link with -lssl -lcrypto.
 *
 * Both transcripts must be identical.  Scenario code never depends on the
 * build: everything that only the real build needs (certificate, BIOs,
 * options, SSL_shutdown) lives behind #ifdef REAL_TLS and prints nothing on
 * stdout.  (With HS_DEBUG set in the environment the real build reports
 * handshake errors on stderr.)
 *
 * Conventions
 *   - every connection is a fresh pair of SSL objects; it is closed with
 *     close_conn(), which in the real build sends close_notify
 *     (SSL_shutdown sets SSL_SENT_SHUTDOWN, so SSL_free does not treat the
 *     session as "bad") and in the driver build just calls SSL_free (the
 *     driver treats completed connections as cleanly shut down);
 *   - resumption = SSL_set_session(new client SSL, saved session);
 *   - sessions are never printed by id/pointer/time: "#n" names the n-th
 *     distinct session id seen in the current scenario, "#-" an empty id.
 *
 * Exit status: 0 when every built-in expectation held, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/ssl.h>

#ifdef REAL_TLS
#define OSSLUTIL_TLS 1 /* die() prints OpenSSL's errors; the in-memory TLS helpers */
#endif
#include "osslutil.h"

#ifndef REAL_TLS
/* Driver entry points exported by libsesscache only. */
int sesscache_handshake_start(SSL *s);
int sesscache_server_lookup(SSL *s, const unsigned char *id, unsigned int id_len);
int sesscache_server_new_session(SSL *s);
int sesscache_handshake_done(SSL *s);
int sesscache_handshake(SSL *client, SSL *server);
#endif

int do_handshake(SSL *client, SSL *server);

/* ------------------------------------------------------------------------ */
/* Build-specific part: contexts, handshake, connection close.               */
/* ------------------------------------------------------------------------ */

#ifdef REAL_TLS

static EVP_PKEY *g_key;
static X509 *g_cert;

/* Throw-away self-signed P-256 certificate, generated in-process. */
static void make_cert(void)
{
    if (g_cert == NULL)
        make_cert_for("sesscache-test", &g_key, &g_cert);
}

static SSL_CTX *new_server_ctx(void)
{
    SSL_CTX *ctx;

    make_cert();
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL
        || SSL_CTX_use_certificate(ctx, g_cert) != 1
        || SSL_CTX_use_PrivateKey(ctx, g_key) != 1)
        die("server ctx");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

static SSL_CTX *new_client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION))
        die("client ctx");
    return ctx;
}

/* Move everything |from| wrote into |to|'s read BIO; returns bytes moved. */
/* 1 = handshake complete, 0 = wants more data, -1 = failed */
int do_handshake(SSL *client, SSL *server)
{
    int cst = 0, sst = 0, i;

    attach_bios(client);
    attach_bios(server);
    for (i = 0; i < 100; i++) {
        int moved = 0, changed = 0;

        if (cst == 0) {
            cst = step(client);
            changed |= cst != 0;
        }
        moved += pump(client, server);
        if (sst == 0) {
            sst = step(server);
            changed |= sst != 0;
        }
        moved += pump(server, client);
        if (cst != 0 && sst != 0)
            break;
        if (!moved && !changed)
            break;
    }
    ERR_clear_error();
    return cst == 1 && sst == 1;
}

/* Clean close: send close_notify (sets SSL_SENT_SHUTDOWN) then free. */
static void close_conn(SSL *s)
{
    if (SSL_is_init_finished(s))
        SSL_shutdown(s);
    SSL_free(s);
    ERR_clear_error();
}

static void global_cleanup(void)
{
    X509_free(g_cert);
    EVP_PKEY_free(g_key);
    g_cert = NULL;
    g_key = NULL;
}

#else /* driver build */

static SSL_CTX *new_server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL)
        die("server ctx");
    return ctx;
}

static SSL_CTX *new_client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        die("client ctx");
    return ctx;
}

int do_handshake(SSL *client, SSL *server)
{
    return sesscache_handshake(client, server);
}

/* The driver has no shutdown state: a completed connection is treated as
 * cleanly shut down, so SSL_free keeps its session. */
static void close_conn(SSL *s)
{
    SSL_free(s);
}

static void global_cleanup(void)
{
}

#endif /* REAL_TLS */

/* ------------------------------------------------------------------------ */
/* Common part: everything below is identical for both builds.              */
/* ------------------------------------------------------------------------ */

/* --- session naming: n-th distinct id in the scenario --- */

#define MAXTAGS 1024
static unsigned char tag_id[MAXTAGS][SSL_MAX_SSL_SESSION_ID_LENGTH];
static unsigned int tag_len[MAXTAGS];
static int ntags;

static const char *tag_of_id(const unsigned char *id, unsigned int len)
{
    static char buf[8][16];
    static int bi;
    char *b = buf[bi++ & 7];
    int i;

    if (len == 0)
        return "#-";
    if (len > SSL_MAX_SSL_SESSION_ID_LENGTH)
        return "#toolong";
    for (i = 0; i < ntags; i++)
        if (tag_len[i] == len && memcmp(tag_id[i], id, len) == 0)
            break;
    if (i == ntags) {
        if (ntags == MAXTAGS)
            return "#overflow";
        memcpy(tag_id[i], id, len);
        tag_len[i] = len;
        ntags++;
    }
    snprintf(b, 16, "#%d", i + 1);
    return b;
}

static const char *tag(const SSL_SESSION *s)
{
    const unsigned char *id;
    unsigned int len;

    if (s == NULL)
        return "NULL";
    id = SSL_SESSION_get_id(s, &len);
    return tag_of_id(id, len);
}

static unsigned int id_len(const SSL_SESSION *s)
{
    unsigned int len = 0;

    if (s != NULL)
        SSL_SESSION_get_id(s, &len);
    return len;
}

/* --- per-context callback state --- */

enum { GET_NULL, GET_COPY1, GET_COPY0 };

#define EXTMAX 16
struct side {
    const char *name;
    SSL_CTX *ctx;
    int quiet;          /* count callbacks, print nothing */
    int n_new, n_remove, n_get, n_gen;
    int new_keep;       /* new_cb keeps the session (returns 1) */
    int new_backdate;   /* new_cb moves the session's time 10000 s back */
    int get_mode;       /* what get_cb returns */
    int reenter;        /* remove_cb calls SSL_CTX_sess_number */
    SSL_SESSION *ext[EXTMAX];
    int n_ext;
};

static struct side SRV, CLI;
static int hsno;

static struct side *side_of(SSL_CTX *ctx)
{
    if (ctx != NULL && ctx == SRV.ctx)
        return &SRV;
    if (ctx != NULL && ctx == CLI.ctx)
        return &CLI;
    die("callback from unknown SSL_CTX");
    return NULL;
}

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct side *sd = side_of(SSL_get_SSL_CTX(ssl));
    unsigned int sidctx_len = 0;

    sd->n_new++;
    if (sd->new_backdate)
        SSL_SESSION_set_time(sess, (long)time(NULL) - 10000);
    if (!sd->quiet) {
        SSL_SESSION_get0_id_context(sess, &sidctx_len);
        printf("  %s new_cb(%s len=%u sid_ctx_len=%u version=0x%04x timeout=%ld"
               " mk_len=%zu resumable=%d is_server=%d is_current=%d) -> %d\n",
               sd->name, tag(sess), id_len(sess), sidctx_len,
               SSL_SESSION_get_protocol_version(sess),
               SSL_SESSION_get_timeout(sess),
               SSL_SESSION_get_master_key(sess, NULL, 0),
               SSL_SESSION_is_resumable(sess), SSL_is_server(ssl),
               SSL_get_session(ssl) == sess, sd->new_keep);
    }
    if (sd->new_keep) {
        if (sd->n_ext == EXTMAX)
            die("external store full");
        sd->ext[sd->n_ext++] = sess; /* keeps the library's reference */
        return 1;
    }
    return 0;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    struct side *sd = side_of(ctx);

    sd->n_remove++;
    if (sd->quiet)
        return;
    printf("  %s remove_cb(%s resumable=%d", sd->name, tag(sess),
           SSL_SESSION_is_resumable(sess));
    if (sd->reenter)
        printf(" reentrant_sess_number=%ld", SSL_CTX_sess_number(ctx));
    printf(")\n");
}

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len,
                           int *copy)
{
    struct side *sd = side_of(SSL_get_SSL_CTX(ssl));
    SSL_SESSION *found = NULL;
    int i;

    sd->n_get++;
    for (i = 0; i < sd->n_ext; i++) {
        unsigned int l;
        const unsigned char *eid = SSL_SESSION_get_id(sd->ext[i], &l);

        if (len >= 0 && l == (unsigned int)len && memcmp(eid, id, l) == 0)
            found = sd->ext[i];
    }
    if (sd->get_mode == GET_NULL)
        found = NULL;
    if (!sd->quiet)
        printf("  %s get_cb(%s len=%d copy_in=%d version=0x%04x is_server=%d)",
               sd->name, tag_of_id(id, len < 0 ? 0 : (unsigned int)len), len,
               *copy, SSL_version(ssl), SSL_is_server(ssl));
    if (found != NULL && sd->get_mode == GET_COPY0) {
        SSL_SESSION_up_ref(found);
        *copy = 0;
    }
    if (!sd->quiet)
        printf(" -> %s resumable=%d copy=%d\n", tag(found),
               found != NULL ? SSL_SESSION_is_resumable(found) : 0, *copy);
    return found;
}

static const unsigned char fixed_id[4] = { 'A', 'B', 'C', 'D' };

static int gen_fixed_id(SSL *ssl, unsigned char *id, unsigned int *len)
{
    struct side *sd = side_of(SSL_get_SSL_CTX(ssl));

    sd->n_gen++;
    if (!sd->quiet)
        printf("  %s gen_id(len_in=%u is_server=%d) -> len 4\n", sd->name,
               *len, SSL_is_server(ssl));
    memcpy(id, fixed_id, sizeof(fixed_id));
    *len = sizeof(fixed_id);
    return 1;
}

/* --- scenario plumbing --- */

static void print_counters(void)
{
    SSL_CTX *s = SRV.ctx, *c = CLI.ctx;

    printf("  server: number=%ld accept=%ld accept_good=%ld hits=%ld misses=%ld"
           " cb_hits=%ld timeouts=%ld cache_full=%ld accept_reneg=%ld\n",
           SSL_CTX_sess_number(s), SSL_CTX_sess_accept(s),
           SSL_CTX_sess_accept_good(s), SSL_CTX_sess_hits(s),
           SSL_CTX_sess_misses(s), SSL_CTX_sess_cb_hits(s),
           SSL_CTX_sess_timeouts(s), SSL_CTX_sess_cache_full(s),
           SSL_CTX_sess_accept_renegotiate(s));
    printf("  client: connect=%ld connect_good=%ld hits=%ld misses=%ld"
           " number=%ld connect_reneg=%ld\n",
           SSL_CTX_sess_connect(c), SSL_CTX_sess_connect_good(c),
           SSL_CTX_sess_hits(c), SSL_CTX_sess_misses(c),
           SSL_CTX_sess_number(c), SSL_CTX_sess_connect_renegotiate(c));
}

static void print_callback_counts(void)
{
    printf("  callbacks: server new=%d remove=%d get=%d gen=%d;"
           " client new=%d remove=%d\n", SRV.n_new, SRV.n_remove, SRV.n_get,
           SRV.n_gen, CLI.n_new, CLI.n_remove);
}

static void begin(const char *name, long smode, long cmode)
{
    printf("\n== %s ==\n", name);
    memset(&SRV, 0, sizeof(SRV));
    memset(&CLI, 0, sizeof(CLI));
    SRV.name = "server";
    CLI.name = "client";
    ntags = 0;
    hsno = 0;
    SRV.ctx = new_server_ctx();
    CLI.ctx = new_client_ctx();
    expect(SSL_CTX_get_session_cache_mode(SRV.ctx) == SSL_SESS_CACHE_SERVER,
           "default server cache mode is SERVER");
    expect(SSL_CTX_get_session_cache_mode(CLI.ctx) == SSL_SESS_CACHE_SERVER,
           "default client cache mode is SERVER");
    SSL_CTX_set_session_cache_mode(SRV.ctx, smode);
    SSL_CTX_set_session_cache_mode(CLI.ctx, cmode);
    SSL_CTX_sess_set_new_cb(SRV.ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(SRV.ctx, remove_cb);
    SSL_CTX_sess_set_new_cb(CLI.ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(CLI.ctx, remove_cb);
    expect(SSL_CTX_sess_get_new_cb(SRV.ctx) == new_cb, "get_new_cb");
    expect(SSL_CTX_sess_get_remove_cb(CLI.ctx) == remove_cb, "get_remove_cb");
    printf("  server mode=0x%lx timeout=%ld cache_size=%ld; client mode=0x%lx"
           " timeout=%ld\n", SSL_CTX_get_session_cache_mode(SRV.ctx),
           SSL_CTX_get_timeout(SRV.ctx), SSL_CTX_sess_get_cache_size(SRV.ctx),
           SSL_CTX_get_session_cache_mode(CLI.ctx),
           SSL_CTX_get_timeout(CLI.ctx));
}

static void use_get_cb(int mode)
{
    SRV.get_mode = mode;
    SSL_CTX_sess_set_get_cb(SRV.ctx, get_cb);
    expect(SSL_CTX_sess_get_get_cb(SRV.ctx) == get_cb, "get_get_cb");
}

static void end(void)
{
    int i;

    printf("-- free server ctx\n");
    SSL_CTX_free(SRV.ctx);
    printf("-- free client ctx\n");
    SSL_CTX_free(CLI.ctx);
    print_callback_counts();
    for (i = 0; i < SRV.n_ext; i++)
        SSL_SESSION_free(SRV.ext[i]);
    for (i = 0; i < CLI.n_ext; i++)
        SSL_SESSION_free(CLI.ext[i]);
    SRV.ctx = CLI.ctx = NULL;
}

struct conn {
    SSL *c, *s;
    int ok;
};

static struct conn conn_new(SSL_SESSION *resume)
{
    struct conn k;

    k.c = SSL_new(CLI.ctx);
    k.s = SSL_new(SRV.ctx);
    if (k.c == NULL || k.s == NULL)
        die("SSL_new");
    SSL_set_connect_state(k.c);
    SSL_set_accept_state(k.s);
    if (resume != NULL && !SSL_set_session(k.c, resume))
        die("SSL_set_session");
    k.ok = 0;
    return k;
}

static void conn_run(struct conn *k)
{
    int quiet = SRV.quiet;

    hsno++;
    if (!quiet) {
        SSL_SESSION *cs = SSL_get_session(k->c);

        if (cs == NULL)
            printf("-- handshake %d (client has no session)\n", hsno);
        else
            printf("-- handshake %d (client has session %s, resumable=%d)\n",
                   hsno, tag(cs), SSL_SESSION_is_resumable(cs));
    }
    k->ok = do_handshake(k->c, k->s);
    if (quiet)
        return;
    printf("  result: ok=%d reused: client=%d server=%d\n", k->ok,
           SSL_session_reused(k->c), SSL_session_reused(k->s));
    if (k->ok) {
        SSL_SESSION *cs = SSL_get_session(k->c), *ss = SSL_get_session(k->s);

        printf("  version: client=0x%04x server=0x%04x; session: client=%s"
               "(len=%u resumable=%d) server=%s(len=%u resumable=%d)\n",
               SSL_version(k->c), SSL_version(k->s), tag(cs), id_len(cs),
               SSL_SESSION_is_resumable(cs), tag(ss), id_len(ss),
               SSL_SESSION_is_resumable(ss));
    }
    print_counters();
}

static void conn_close(struct conn *k)
{
    close_conn(k->c);
    close_conn(k->s);
    k->c = k->s = NULL;
}

/* One whole connection; returns 1 if the handshake completed.  If csess /
 * ssess are non-NULL they receive a reference to the client's / server's
 * session. */
static int connect_once(SSL_SESSION *resume, SSL_SESSION **csess,
                        SSL_SESSION **ssess)
{
    struct conn k = conn_new(resume);
    int ok;

    conn_run(&k);
    ok = k.ok;
    if (csess != NULL)
        *csess = SSL_get1_session(k.c);
    if (ssess != NULL)
        *ssess = SSL_get1_session(k.s);
    conn_close(&k);
    return ok;
}

/* A distinct SSL_SESSION object with the same cache key (version, id). */
static SSL_SESSION *key_twin(const SSL_SESSION *s)
{
    SSL_SESSION *t = SSL_SESSION_new();
    const unsigned char *id;
    unsigned int len;

    if (t == NULL)
        die("SSL_SESSION_new");
    id = SSL_SESSION_get_id(s, &len);
    if (!SSL_SESSION_set1_id(t, id, len)
        || !SSL_SESSION_set_protocol_version(t,
                                             SSL_SESSION_get_protocol_version(s)))
        die("key twin");
    return t;
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                 */
/* ------------------------------------------------------------------------ */

/* A.3: TLS 1.2 NO_TICKET, full + resume, internal cache. */
static void sc_full_resume_internal(void)
{
    SSL_SESSION *saved = NULL;
    struct conn k;

    begin("full_resume_internal", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    k = conn_new(NULL);
    conn_run(&k);
    saved = SSL_get1_session(k.c);
    {
        unsigned int len;
        const unsigned char *id = SSL_SESSION_get_id(saved, &len);

        printf("  server SSL_has_matching_session_id: len=%u -> %d, len-1 -> %d\n",
               len, SSL_has_matching_session_id(k.s, id, len),
               SSL_has_matching_session_id(k.s, id, len - 1));
    }
    conn_close(&k);
    connect_once(saved, NULL, NULL);
    expect(SSL_CTX_sess_number(SRV.ctx) == 1, "number 1");
    expect(SSL_CTX_sess_accept(SRV.ctx) == 2, "accept 2");
    expect(SSL_CTX_sess_accept_good(SRV.ctx) == 2, "accept_good 2");
    expect(SSL_CTX_sess_hits(SRV.ctx) == 1, "hits 1");
    printf("-- adding the client's session to the server cache: %d\n",
           SSL_CTX_add_session(SRV.ctx, saved));
    printf("  server number=%ld\n", SSL_CTX_sess_number(SRV.ctx));
    SSL_SESSION_free(saved);
    end();
}

/* A.3: cached session backdated past its timeout, then a resume attempt. */
static void sc_backdated_timeout(void)
{
    SSL_SESSION *saved = NULL, *ss = NULL;
    long t;
    int r;

    begin("backdated_timeout", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    connect_once(NULL, &saved, &ss);
    t = (long)time(NULL) - 10000;
    r = SSL_SESSION_set_time(ss, t) == t;
    printf("-- backdate server session %s by 10000 s (timeout %ld): set_time"
           " returns its argument: %d\n", tag(ss), SSL_SESSION_get_timeout(ss),
           r);
    connect_once(saved, NULL, NULL);
    printf("  resumable: server's old session=%d client's saved=%d\n",
           SSL_SESSION_is_resumable(ss), SSL_SESSION_is_resumable(saved));
    expect(SSL_CTX_sess_timeouts(SRV.ctx) == 1, "timeouts 1");
    expect(SRV.n_remove == 1, "remove_cb 1");
    expect(SSL_CTX_sess_number(SRV.ctx) == 1, "number 1");
    SSL_SESSION_free(ss);
    SSL_SESSION_free(saved);
    end();
}

/* A.3: external cache (new_cb keeps, get_cb returns), internal copy removed,
 * resume x2.  Run for the three cache modes and both *copy conventions. */
static void sc_external(const char *name, long smode, int get_mode)
{
    SSL_SESSION *saved = NULL, *twin;
    int r;

    begin(name, smode, SSL_SESS_CACHE_SERVER);
    SRV.new_keep = 1;
    use_get_cb(get_mode);
    connect_once(NULL, &saved, NULL);
    if (SRV.n_ext != 1)
        die("external store did not receive the session");
    twin = key_twin(SRV.ext[0]);
    printf("-- remove internal copy (via a distinct object with the same id)\n");
    r = SSL_CTX_remove_session(SRV.ctx, twin);
    printf("  remove -> %d number=%ld; stored session resumable=%d, twin"
           " resumable=%d\n", r, SSL_CTX_sess_number(SRV.ctx),
           SSL_SESSION_is_resumable(SRV.ext[0]),
           SSL_SESSION_is_resumable(twin));
    SSL_SESSION_free(twin);
    connect_once(saved, NULL, NULL);
    connect_once(saved, NULL, NULL);
    if (!(smode & SSL_SESS_CACHE_NO_INTERNAL_STORE)
        && !(smode & SSL_SESS_CACHE_NO_INTERNAL_LOOKUP)) {
        expect(SSL_CTX_sess_misses(SRV.ctx) == 1, "ext: misses 1");
        expect(SSL_CTX_sess_cb_hits(SRV.ctx) == 1, "ext: cb_hits 1");
        expect(SSL_CTX_sess_hits(SRV.ctx) == 2, "ext: hits 2");
        expect(SSL_CTX_sess_number(SRV.ctx) == 1, "ext: number 1");
    } else if (smode & SSL_SESS_CACHE_NO_INTERNAL_STORE) {
        expect(SSL_CTX_sess_misses(SRV.ctx) == 2, "no-store: misses 2");
        expect(SSL_CTX_sess_cb_hits(SRV.ctx) == 2, "no-store: cb_hits 2");
        expect(SSL_CTX_sess_number(SRV.ctx) == 0, "no-store: number 0");
    } else {
        expect(SSL_CTX_sess_misses(SRV.ctx) == 0, "no-lookup: misses 0");
        expect(SSL_CTX_sess_cb_hits(SRV.ctx) == 2, "no-lookup: cb_hits 2");
    }
    SSL_SESSION_free(saved);
    end();
}

/* A.3: sid_ctx "A" for the first connection, "B" for the resume attempt. */
static void sc_sid_ctx_mismatch(void)
{
    SSL_SESSION *saved = NULL;
    struct conn k;

    begin("sid_ctx_A_then_B", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    if (!SSL_CTX_set_session_id_context(SRV.ctx, (const unsigned char *)"A", 1))
        die("set sid_ctx");
    connect_once(NULL, &saved, NULL);
    k = conn_new(saved);
    if (!SSL_set_session_id_context(k.s, (const unsigned char *)"B", 1))
        die("set sid_ctx B");
    conn_run(&k);
    conn_close(&k);
    expect(SSL_CTX_sess_hits(SRV.ctx) == 0, "sid_ctx: hits 0");
    expect(SSL_CTX_sess_misses(SRV.ctx) == 0, "sid_ctx: misses 0");
    printf("-- resume again with sid_ctx A\n");
    connect_once(saved, NULL, NULL);
    SSL_SESSION_free(saved);
    end();
}

/* A.3: server SSL_VERIFY_PEER with an empty sid_ctx, session in the cache. */
static void sc_verify_peer_empty_sid_ctx(void)
{
    SSL_SESSION *saved = NULL;
    struct conn k;

    begin("verify_peer_empty_sid_ctx", SSL_SESS_CACHE_SERVER,
          SSL_SESS_CACHE_SERVER);
    connect_once(NULL, &saved, NULL);
    k = conn_new(saved);
    SSL_set_verify(k.s, SSL_VERIFY_PEER, NULL);
    printf("  server verify mode=%d\n", SSL_get_verify_mode(k.s));
    conn_run(&k);
    conn_close(&k);
    printf("  client's saved session resumable=%d\n",
           SSL_SESSION_is_resumable(saved));
    expect(SSL_CTX_sess_accept(SRV.ctx) == 2, "verify: accept 2");
    expect(SSL_CTX_sess_accept_good(SRV.ctx) == 1, "verify: accept_good 1");
    printf("-- retry with the same saved session, no VERIFY_PEER\n");
    connect_once(saved, NULL, NULL);
    SSL_SESSION_free(saved);
    end();
}

/* A.3: UPDATE_TIME does not refresh the time on an internal-cache hit. */
static void sc_update_time_internal_hit(void)
{
    SSL_SESSION *saved = NULL, *ss = NULL;
    long t0;
    int r;

    begin("update_time_internal_hit",
          SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME,
          SSL_SESS_CACHE_SERVER);
    connect_once(NULL, &saved, &ss);
    t0 = (long)time(NULL) - 100;
    SSL_SESSION_set_time(ss, t0);
    printf("-- server session %s backdated by 100 s\n", tag(ss));
    connect_once(saved, NULL, NULL);
    printf("  time unchanged after internal hit: %d\n",
           SSL_SESSION_get_time(ss) == t0);
    expect(SSL_SESSION_get_time(ss) == t0, "UPDATE_TIME: time unchanged");
    r = SSL_CTX_add_session(SRV.ctx, ss);
    printf("-- explicit SSL_CTX_add_session of the cached session -> %d;"
           " time refreshed: %d; number=%ld\n", r,
           SSL_SESSION_get_time(ss) != t0, SSL_CTX_sess_number(SRV.ctx));
    SSL_SESSION_free(ss);
    SSL_SESSION_free(saved);
    end();
}

/* A.3: get_cb returns a session that is not resumable. */
static void sc_get_cb_not_resumable(const char *name, int get_mode)
{
    SSL_SESSION *saved = NULL;
    int r;

    begin(name, SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    SRV.new_keep = 1;
    use_get_cb(get_mode);
    connect_once(NULL, &saved, NULL);
    if (SRV.n_ext != 1)
        die("external store did not receive the session");
    printf("-- remove the stored session object itself from the cache\n");
    r = SSL_CTX_remove_session(SRV.ctx, SRV.ext[0]);
    printf("  remove -> %d number=%ld stored session resumable=%d\n", r,
           SSL_CTX_sess_number(SRV.ctx), SSL_SESSION_is_resumable(SRV.ext[0]));
    connect_once(saved, NULL, NULL);
    expect(SSL_CTX_sess_cb_hits(SRV.ctx) == 0, "not-resumable: cb_hits 0");
    SSL_SESSION_free(saved);
    end();
}

/* Client cache mode CLIENT: client new_cb fires, client number counts. */
static void sc_client_mode_client(void)
{
    SSL_SESSION *saved = NULL, *saved2 = NULL;
    long t;

    begin("client_mode_client", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_CLIENT);
    connect_once(NULL, &saved, NULL);
    connect_once(saved, NULL, NULL);
    connect_once(NULL, &saved2, NULL);
    /* equal expiries, so the list order below does not depend on the clock */
    t = (long)time(NULL);
    SSL_SESSION_set_time(saved, t);
    SSL_SESSION_set_time(saved2, t);
    printf("-- both client sessions get the same time; re-add %s to the client"
           " cache -> %d\n", tag(saved), SSL_CTX_add_session(CLI.ctx, saved));
    printf("  client number=%ld\n", SSL_CTX_sess_number(CLI.ctx));
    SSL_SESSION_free(saved);
    SSL_SESSION_free(saved2);
    end();
}

/* Server cache mode OFF: nothing stored, empty session ids, no resumption.
 * Before that: a session cached while the mode was SERVER can still be
 * resumed after switching to OFF (the lookup ignores the mode). */
static void sc_server_mode_off(void)
{
    SSL_SESSION *saved = NULL, *saved2 = NULL;

    begin("server_mode_off", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    connect_once(NULL, &saved, NULL);
    printf("-- server mode set to OFF (previous 0x%lx)\n",
           SSL_CTX_set_session_cache_mode(SRV.ctx, SSL_SESS_CACHE_OFF));
    connect_once(saved, NULL, NULL);
    connect_once(NULL, &saved2, NULL);
    printf("  new client session resumable=%d len=%u\n",
           SSL_SESSION_is_resumable(saved2), id_len(saved2));
    connect_once(saved2, NULL, NULL);
    SSL_SESSION_free(saved);
    SSL_SESSION_free(saved2);
    end();
}

/* Auto-flush during the 256th completed handshake.
 * backdate: 0 = after each handshake via SSL_get1_session(server),
 *           1 = inside the server's new_cb. */
static void sc_auto_flush(const char *name, long smode, int backdate_in_cb)
{
    int i, allok = 1;

    begin(name, smode, SSL_SESS_CACHE_SERVER);
    SRV.quiet = CLI.quiet = 1;
    SRV.new_backdate = backdate_in_cb;
    for (i = 1; i <= 300; i++) {
        SSL_SESSION *ss = NULL;

        allok &= connect_once(NULL, NULL, &ss);
        if (!backdate_in_cb)
            SSL_SESSION_set_time(ss, (long)time(NULL) - 10000);
        SSL_SESSION_free(ss);
        if (i == 1 || i == 254 || i == 255 || i == 256 || i == 257
            || i == 300) {
            printf("-- after handshake %d: all_ok=%d server new_cb=%d"
                   " remove_cb=%d\n", i, allok, SRV.n_new, SRV.n_remove);
            print_counters();
        }
    }
    end();
}

/* generate_session_id callback returning a fixed 4-byte id. */
static void sc_fixed_session_id(void)
{
    SSL_SESSION *saved = NULL;

    begin("fixed_session_id", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    if (!SSL_CTX_set_generate_session_id(SRV.ctx, gen_fixed_id))
        die("set_generate_session_id");
    connect_once(NULL, &saved, NULL);
    connect_once(saved, NULL, NULL);
    printf("-- new client, no session: id conflict expected\n");
    expect(!connect_once(NULL, NULL, NULL), "fixed id: conflict fails");
    printf("-- resume the 4-byte session once more\n");
    connect_once(saved, NULL, NULL);
    SSL_SESSION_free(saved);
    end();
}

/* remove_cb that re-enters the API, only on paths where OpenSSL does not
 * hold the cache lock (SSL_CTX_remove_session, incl. the timeout path). */
static void sc_reentrant_remove_cb(void)
{
    SSL_SESSION *c1 = NULL, *s1 = NULL, *c2 = NULL, *s2 = NULL;

    begin("reentrant_remove_cb", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    connect_once(NULL, &c1, &s1);
    connect_once(NULL, &c2, &s2);
    SRV.reenter = 1;
    printf("-- SSL_CTX_remove_session(server session %s)\n", tag(s1));
    printf("  -> %d\n", SSL_CTX_remove_session(SRV.ctx, s1));
    printf("-- SSL_CTX_remove_session(server session %s) again\n", tag(s1));
    printf("  -> %d\n", SSL_CTX_remove_session(SRV.ctx, s1));
    printf("-- backdate %s, resume attempt (timeout removal)\n", tag(s2));
    SSL_SESSION_set_time(s2, (long)time(NULL) - 10000);
    connect_once(c2, NULL, NULL);
    SRV.reenter = 0;
    printf("-- resume %s (removed explicitly)\n", tag(c1));
    connect_once(c1, NULL, NULL);
    SSL_SESSION_free(c1);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(c2);
    SSL_SESSION_free(s2);
    end();
}

/* Cache size 3 (holds 2 in 3.0), five full handshakes. */
static void sc_cache_size(void)
{
    int i;

    begin("cache_size_3", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
    printf("  set cache size 3 -> previous %ld\n",
           SSL_CTX_sess_set_cache_size(SRV.ctx, 3));
    for (i = 0; i < 5; i++)
        connect_once(NULL, NULL, NULL);
    end();
}

/* SSL objects that never handshook are freed without any shutdown: their
 * session must stay cached (both builds agree: the SSL is "before"). */
static void sc_free_unconnected(void)
{
    SSL_SESSION *saved = NULL, *ss = NULL;
    SSL *c, *s;
    int rc, rs;

    begin("free_unconnected", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_CLIENT);
    connect_once(NULL, &saved, &ss);
    c = SSL_new(CLI.ctx);
    s = SSL_new(SRV.ctx);
    if (c == NULL || s == NULL)
        die("SSL_new");
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    rc = SSL_set_session(c, saved);
    rs = SSL_set_session(s, ss);
    printf("-- set_session on unconnected SSLs: client %d server %d\n", rc, rs);
    printf("  get_session matches: client %d server %d\n",
           SSL_get_session(c) == saved, SSL_get_session(s) == ss);
    printf("-- set_session(client, NULL) -> %d\n", SSL_set_session(c, NULL));
    printf("-- set_session(client, saved) again -> %d\n",
           SSL_set_session(c, saved));
    SSL_free(c);
    SSL_free(s);
    printf("-- freed without handshake/shutdown: server number=%ld client"
           " number=%ld remove_cb server=%d client=%d\n",
           SSL_CTX_sess_number(SRV.ctx), SSL_CTX_sess_number(CLI.ctx),
           SRV.n_remove, CLI.n_remove);
    printf("  resumable: client %d server %d\n",
           SSL_SESSION_is_resumable(saved), SSL_SESSION_is_resumable(ss));
    printf("-- extra SSL_CTX reference then free: up_ref %d\n",
           SSL_CTX_up_ref(SRV.ctx));
    SSL_CTX_free(SRV.ctx);
    printf("  server number=%ld remove_cb=%d\n", SSL_CTX_sess_number(SRV.ctx),
           SRV.n_remove);
    connect_once(saved, NULL, NULL);
    SSL_SESSION_free(saved);
    SSL_SESSION_free(ss);
    end();
}

int main(void)
{
    sc_full_resume_internal();
    sc_backdated_timeout();
    sc_external("external_internal_store_copy1", SSL_SESS_CACHE_SERVER,
                GET_COPY1);
    sc_external("external_internal_store_copy0", SSL_SESS_CACHE_SERVER,
                GET_COPY0);
    sc_external("external_no_internal_store_copy1",
                SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE,
                GET_COPY1);
    sc_external("external_no_internal_store_copy0",
                SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE,
                GET_COPY0);
    sc_external("external_no_internal_lookup_copy1",
                SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP,
                GET_COPY1);
    sc_external("external_no_internal_lookup_copy0",
                SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP,
                GET_COPY0);
    sc_sid_ctx_mismatch();
    sc_verify_peer_empty_sid_ctx();
    sc_update_time_internal_hit();
    sc_get_cb_not_resumable("get_cb_not_resumable_copy1", GET_COPY1);
    sc_get_cb_not_resumable("get_cb_not_resumable_copy0", GET_COPY0);
    sc_client_mode_client();
    sc_server_mode_off();
    sc_auto_flush("auto_flush_backdate_after", SSL_SESS_CACHE_SERVER, 0);
    sc_auto_flush("auto_flush_backdate_in_new_cb", SSL_SESS_CACHE_SERVER, 1);
    sc_auto_flush("auto_flush_no_auto_clear",
                  SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR, 0);
    sc_fixed_session_id();
    sc_reentrant_remove_cb();
    sc_cache_size();
    sc_free_unconnected();
    global_cleanup();
    printf("\n== done: %d expectation failure(s) ==\n", failures);
    return failures == 0 ? 0 : 1;
}
