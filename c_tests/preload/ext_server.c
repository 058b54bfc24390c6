/*
 * ext_server.c - a TLS server with its own session callbacks, run with and without
 * libsesscache_preload.so: both runs must print the same transcript.
 *
 * Every connection is a real in-memory TLS handshake (TLS 1.2 or 1.3) with the system
 * OpenSSL 3.0; the server has get/new/remove callbacks backed by a small external store and
 * runs in the mode each scenario names (NO_INTERNAL_STORE, NO_INTERNAL, internal + external,
 * TLS 1.3 stateful tickets, early-data anti-replay...). stdout is the transcript: callback calls
 * (sessions named "#n", the n-th distinct id of the scenario), reuse, and the counters the
 * program reads. It also counts live SSL_SESSION objects through an ex_data index and checks
 * that none is left at the end. Exit status 0 when every expectation held.
 *
 * Build: cc -Wall -Wextra -Werror ext_server.c -lssl -lcrypto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OSSLUTIL_TLS 1
#include "../osslutil.h"

static EVP_PKEY *g_key;
static X509 *g_cert;

/* --- live-session count, through the ex_data new/free callbacks --- */
/* --- session naming: the n-th distinct id seen in the scenario --- */
static unsigned char tags[512][32];
static unsigned int taglen[512];
static int ntags;

static const char *name_of(const unsigned char *id, unsigned int len)
{
    static char buf[8][16];
    static int slot;
    char *out = buf[slot++ % 8];
    int i;

    if (len == 0)
        return "#-";
    for (i = 0; i < ntags; i++)
        if (taglen[i] == len && memcmp(tags[i], id, len) == 0)
            break;
    if (i == ntags && ntags < 512) {
        memcpy(tags[i], id, len);
        taglen[i] = len;
        ntags++;
    }
    snprintf(out, 16, "#%d", i + 1);
    return out;
}

static const char *sname(const SSL_SESSION *s)
{
    unsigned int len;
    const unsigned char *id = SSL_SESSION_get_id(s, &len);

    return name_of(id, len);
}

/* --- the external store of the server --- */
#define STORE 64
static SSL_SESSION *store[STORE];
static int get_copy = 1;   /* what the get callback says in *copy */
static int backdate;       /* new_cb backdates sessions by this many seconds */
static int new_calls, get_calls, remove_calls;

static int ext_new(SSL *ssl, SSL_SESSION *sess)
{
    int i;

    (void)ssl;
    new_calls++;
    if (backdate)
        SSL_SESSION_set_time(sess, (long)time(NULL) - backdate);
    for (i = 0; i < STORE; i++)
        if (store[i] == NULL) {
            store[i] = sess; /* keeps the reference it was given: return 1 */
            printf("  new_cb(%s) stored\n", sname(sess));
            return 1;
        }
    printf("  new_cb(%s) store full\n", sname(sess));
    return 0;
}

static SSL_SESSION *ext_get(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    int i;

    (void)ssl;
    get_calls++;
    for (i = 0; i < STORE; i++) {
        unsigned int l;
        const unsigned char *sid;

        if (store[i] == NULL)
            continue;
        sid = SSL_SESSION_get_id(store[i], &l);
        if (l == (unsigned int)len && memcmp(sid, id, l) == 0) {
            printf("  get_cb(%s) found copy=%d\n", name_of(id, (unsigned int)len), get_copy);
            *copy = get_copy;
            if (!get_copy)
                SSL_SESSION_up_ref(store[i]);
            return store[i];
        }
    }
    printf("  get_cb(%s) not found\n", name_of(id, (unsigned int)len));
    return NULL;
}

static void ext_remove(SSL_CTX *ctx, SSL_SESSION *sess)
{
    int i;

    (void)ctx;
    remove_calls++;
    for (i = 0; i < STORE; i++)
        if (store[i] != NULL && SSL_SESSION_get_id(store[i], NULL) != NULL) {
            unsigned int a, b;
            const unsigned char *x = SSL_SESSION_get_id(store[i], &a), *y = SSL_SESSION_get_id(sess, &b);

            if (a == b && memcmp(x, y, a) == 0) {
                SSL_SESSION_free(store[i]);
                store[i] = NULL;
                printf("  remove_cb(%s) dropped from store\n", sname(sess));
                return;
            }
        }
    printf("  remove_cb(%s)\n", sname(sess));
}

static void store_clear(void)
{
    int i;

    for (i = 0; i < STORE; i++) {
        SSL_SESSION_free(store[i]);
        store[i] = NULL;
    }
}

/* --- in-memory connections --- */
static SSL_CTX *sctx, *cctx;
static int hsno;

/* One connection: handshake, one byte each way (the client thus reads the TLS 1.3 tickets),
 * clean shutdown. Resumes |*sess| when set; leaves the client's latest session there. */
static void connect_once(SSL_SESSION **sess)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    int cst = 0, sst = 0, i;
    unsigned char b = 'x';

    if (c == NULL || s == NULL)
        die("SSL_new");
    attach_bios(c);
    attach_bios(s);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (*sess != NULL)
        SSL_set_session(c, *sess);
    hsno++;
    for (i = 0; i < 50 && (cst == 0 || sst == 0); i++) {
        if (cst == 0)
            cst = step(c);
        pump(c, s);
        if (sst == 0)
            sst = step(s);
        pump(s, c);
    }
    if (cst == 1 && sst == 1) {
        SSL_write(s, &b, 1);
        pump(s, c);
        SSL_read(c, &b, 1);
        SSL_write(c, &b, 1);
        pump(c, s);
        SSL_read(s, &b, 1);
    }
    printf(" hs %d: ok=%d reused=%d/%d %s\n", hsno, cst == 1 && sst == 1, SSL_session_reused(s),
           SSL_session_reused(c), SSL_get_version(s));
    SSL_SESSION_free(*sess);
    *sess = SSL_get1_session(c);
    SSL_shutdown(c);
    pump(c, s);
    SSL_shutdown(s);
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
}

static void counters(void)
{
    printf(" counters: number=%ld accept=%ld accept_good=%ld hits=%ld misses=%ld cb_hits=%ld"
           " timeouts=%ld cache_full=%ld | new_cb=%d get_cb=%d remove_cb=%d\n",
           SSL_CTX_sess_number(sctx), SSL_CTX_sess_accept(sctx), SSL_CTX_sess_accept_good(sctx),
           SSL_CTX_sess_hits(sctx), SSL_CTX_sess_misses(sctx), SSL_CTX_sess_cb_hits(sctx),
           SSL_CTX_sess_timeouts(sctx), SSL_CTX_sess_cache_full(sctx), new_calls, get_calls, remove_calls);
}

enum { CB_NONE = 0, CB_NEW = 1, CB_GET = 2, CB_REMOVE = 4, CB_ALL = 7 };

static void begin(const char *name, int tls13, long mode, unsigned long opts, int cbs)
{
    printf("== %s\n", name);
    ntags = 0;
    hsno = 0;
    new_calls = get_calls = remove_calls = 0;
    get_copy = 1;
    backdate = 0;
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    if (sctx == NULL || cctx == NULL || SSL_CTX_use_certificate(sctx, g_cert) != 1
        || SSL_CTX_use_PrivateKey(sctx, g_key) != 1
        || !SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"preload", 7)
        || !SSL_CTX_set_max_proto_version(cctx, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION))
        die("ctx");
    SSL_CTX_set_options(sctx, opts);
    SSL_CTX_set_session_cache_mode(sctx, mode);
    if (cbs & CB_NEW)
        SSL_CTX_sess_set_new_cb(sctx, ext_new);
    if (cbs & CB_GET)
        SSL_CTX_sess_set_get_cb(sctx, ext_get);
    if (cbs & CB_REMOVE)
        SSL_CTX_sess_set_remove_cb(sctx, ext_remove);
    expect(SSL_CTX_get_session_cache_mode(sctx) == mode, "mode reads back");
    expect((SSL_CTX_sess_get_new_cb(sctx) != NULL) == ((cbs & CB_NEW) != 0), "new_cb reads back");
    expect((SSL_CTX_sess_get_get_cb(sctx) != NULL) == ((cbs & CB_GET) != 0), "get_cb reads back");
    expect((SSL_CTX_sess_get_remove_cb(sctx) != NULL) == ((cbs & CB_REMOVE) != 0), "remove_cb reads back");
}

static void end(void)
{
    counters();
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    printf(" after SSL_CTX_free: remove_cb=%d\n", remove_calls);
    store_clear();
}

static void resumes(int n, SSL_SESSION **sess)
{
    int i;

    for (i = 0; i < n; i++)
        connect_once(sess);
}

static void run(const char *name, int tls13, long mode, unsigned long opts, int cbs, int copy, int n)
{
    SSL_SESSION *sess = NULL;

    begin(name, tls13, mode, opts, cbs);
    get_copy = copy;
    resumes(n, &sess);
    SSL_SESSION_free(sess);
    end();
}

int main(void)
{
    const long S = SSL_SESS_CACHE_SERVER;

    count_live_sessions();
    make_cert_for("preload", &g_key, &g_cert);

    run("tls1.2 external, NO_INTERNAL_STORE, copy=1", 0, S | SSL_SESS_CACHE_NO_INTERNAL_STORE, SSL_OP_NO_TICKET, CB_ALL, 1, 3);
    run("tls1.2 external, NO_INTERNAL, copy=0", 0, S | SSL_SESS_CACHE_NO_INTERNAL, SSL_OP_NO_TICKET, CB_ALL, 0, 3);
    run("tls1.2 internal + external", 0, S, SSL_OP_NO_TICKET, CB_ALL, 1, 3);
    run("tls1.2 external, NO_INTERNAL_LOOKUP", 0, S | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP, SSL_OP_NO_TICKET, CB_ALL, 1, 3);
    run("tls1.2 tickets (empty ids, nothing cached)", 0, S, 0, CB_ALL, 1, 3);
    run("tls1.2 cache off", 0, SSL_SESS_CACHE_OFF, SSL_OP_NO_TICKET, CB_ALL, 1, 2);
    run("tls1.3 stateful, external, NO_INTERNAL_STORE", 1, S | SSL_SESS_CACHE_NO_INTERNAL_STORE, SSL_OP_NO_TICKET, CB_ALL, 1, 3);
    run("tls1.3 stateful, internal only", 1, S, SSL_OP_NO_TICKET, CB_NONE, 1, 3);
    run("tls1.3 stateless, remove_cb only (stores anyway)", 1, S, 0, CB_REMOVE, 1, 3);
    run("tls1.3 stateless, new_cb only (stores nothing)", 1, S, 0, CB_NEW, 1, 3);

    {
        SSL_SESSION *first = NULL, *again = NULL;

        begin("tls1.3 stateful with early data: tickets are single-use", 1, S, SSL_OP_NO_TICKET, CB_REMOVE);
        SSL_CTX_set_max_early_data(sctx, 1024);
        connect_once(&first);
        again = first;
        SSL_SESSION_up_ref(again);
        connect_once(&first);
        connect_once(&again); /* the same ticket a second time: not reused */
        SSL_SESSION_free(first);
        SSL_SESSION_free(again);
        end();
    }
    {
        SSL_SESSION *sess = NULL;

        begin("tls1.2 backdated by new_cb: timeout on resume", 0, S, SSL_OP_NO_TICKET, CB_ALL);
        backdate = 100000;
        resumes(3, &sess);
        SSL_SESSION_free(sess);
        end();
    }
    {
        SSL_SESSION *sess = NULL;

        begin("tls1.2 explicit add, remove, flush, has_matching", 0, S, SSL_OP_NO_TICKET, CB_REMOVE);
        connect_once(&sess);
        {
            SSL *probe = SSL_new(sctx);
            unsigned int len;
            const unsigned char *id = SSL_SESSION_get_id(sess, &len);
            SSL_SESSION *other = SSL_SESSION_new();
            int r, r2;
            long l;

            printf(" has_matching(fresh SSL, tls1.3 version)=%d\n", SSL_has_matching_session_id(probe, id, len));
            r = SSL_CTX_add_session(sctx, sess); /* the client's session, new to the server's cache */
            printf(" add(client session)=%d number=%ld\n", r, SSL_CTX_sess_number(sctx));
            SSL_SESSION_set1_id(other, (const unsigned char *)"abcdefgh", 8);
            SSL_SESSION_set_protocol_version(other, TLS1_2_VERSION);
            SSL_SESSION_set_time(other, (long)time(NULL) - 10);
            SSL_SESSION_set_timeout(other, 5);
            r = SSL_CTX_add_session(sctx, other);
            printf(" add(other)=%d number=%ld\n", r, SSL_CTX_sess_number(sctx));
            SSL_CTX_flush_sessions(sctx, (long)time(NULL));
            printf(" after flush(now): number=%ld resumable(other)=%d\n", SSL_CTX_sess_number(sctx),
                   SSL_SESSION_is_resumable(other));
            r = SSL_CTX_remove_session(sctx, sess);
            r2 = SSL_CTX_remove_session(sctx, sess);
            printf(" remove(client session)=%d again=%d number=%ld\n", r, r2, SSL_CTX_sess_number(sctx));
            l = SSL_CTX_sess_set_cache_size(sctx, 2);
            printf(" size: set(2)=%ld get=%ld\n", l, SSL_CTX_sess_get_cache_size(sctx));
            l = SSL_CTX_set_timeout(sctx, 60);
            printf(" timeout: set(60)=%ld get=%ld\n", l, SSL_CTX_get_timeout(sctx));
            SSL_SESSION_free(other);
            SSL_free(probe);
        }
        connect_once(&sess); /* removed: full handshake */
        connect_once(&sess);
        SSL_SESSION_free(sess);
        end();
    }

    printf("live sessions at the end: %ld\n", live_sessions);
    expect(live_sessions == 0, "no session leaked");
    EVP_PKEY_free(g_key);
    X509_free(g_cert);
    return failures == 0 ? 0 : 1;
}
