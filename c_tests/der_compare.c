/*
 * der_compare.c: i2d_SSL_SESSION / d2i_SSL_SESSION, OpenSSL 3.0 vs sesscache.
 *
 * Compiled against the system <openssl/ssl.h>, linked once with -lssl -lcrypto and once with
 * -lsesscache (scripts/test.d/der.sh). Uses only calls both libraries have; buffers come from
 * malloc (i2d with a caller buffer), so no OPENSSL_free is needed.
 *
 *   der_compare enc         sessions built through the API: "ENC name hex" and "FIELDS name ..."
 *   der_compare dec FILE    decodes the ENC lines of FILE (the other library's output): prints
 *                           "FIELDS name ..." and "REENC name hex" for each
 *   der_compare mut         corrupted, truncated and padded encodings, d2i's reuse and cursor
 *                           rules: one line per case, identical for both libraries
 */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osslutil.h"

#define FIXED_NOW 1234567L

static SSL_CTX *g_ctx;
static SSL *g_ssl;

/* i2d into a malloc'd buffer; returns the length (0: nothing) and checks the cursor rules. */
static int encode(SSL_SESSION *s, unsigned char **out)
{
    int len = i2d_SSL_SESSION(s, NULL), len2;
    unsigned char *buf, *p;

    *out = NULL;
    if (len <= 0)
        return 0;
    buf = malloc((size_t)len);
    if (buf == NULL)
        die("malloc");
    p = buf;
    len2 = i2d_SSL_SESSION(s, &p);
    if (len2 != len || p != buf + len)
        die("i2d length or cursor mismatch");
    *out = buf;
    return len;
}

static void print_fields(const char *name, SSL_SESSION *s, time_t before, time_t after)
{
    unsigned int n;
    const unsigned char *q;
    unsigned char mk[512];
    size_t mklen;
    const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
    long t = (long)SSL_SESSION_get_time(s);

    printf("FIELDS %s ver=%04x cipher=%08lx:%s", name, (unsigned)SSL_SESSION_get_protocol_version(s),
           c != NULL ? (unsigned long)SSL_CIPHER_get_id(c) : 0UL,
           c != NULL ? SSL_CIPHER_get_name(c) : "(null)");
    q = SSL_SESSION_get_id(s, &n);
    printf(" id=");
    print_hex(q, n);
    q = SSL_SESSION_get0_id_context(s, &n);
    printf(" sid_ctx=");
    print_hex(q, n);
    mklen = SSL_SESSION_get_master_key(s, mk, sizeof(mk));
    printf(" mk=");
    print_hex(mk, mklen);
    if (before != 0 && t >= (long)before && t <= (long)after)
        printf(" time=now");
    else
        printf(" time=%ld", t);
    printf(" timeout=%ld resumable=%d\n", (long)SSL_SESSION_get_timeout(s), SSL_SESSION_is_resumable(s));
}

static SSL_SESSION *mk(unsigned int code, int version, const unsigned char *id, unsigned int idlen,
                       const unsigned char *mkey, size_t mklen, const unsigned char *ctx,
                       unsigned int ctxlen, long t, long tmo)
{
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char cb[2];

    cb[0] = (unsigned char)(code >> 8);
    cb[1] = (unsigned char)code;
    if (s == NULL)
        die("SSL_SESSION_new");
    if (code != 0 && !SSL_SESSION_set_cipher(s, SSL_CIPHER_find(g_ssl, cb)))
        die("SSL_SESSION_set_cipher");
    if (!SSL_SESSION_set_protocol_version(s, version) || !SSL_SESSION_set1_id(s, id, idlen)
        || !SSL_SESSION_set1_master_key(s, mkey, mklen) || !SSL_SESSION_set1_id_context(s, ctx, ctxlen))
        die("setters");
    SSL_SESSION_set_time(s, t);
    SSL_SESSION_set_timeout(s, tmo);
    return s;
}

#define NCASES 9
static const char *const case_names[NCASES] = {
    "tls12_spec71", "tls13_ctx32", "tls13_mk512", "tls10_empty", "dtls12_neg_time",
    "tls11_huge_timeout", "tls12_no_cipher", "tls12_id1_ctx1", "tls13_ccm8",
};

static SSL_SESSION *build(int i)
{
    static unsigned char id32[32], mk48[48], mk512[512], ctx32[32];
    static const unsigned char b4[4] = { 1, 2, 3, 4 };
    size_t j;

    memset(id32, 0xab, sizeof(id32));
    memset(mk48, 0xcd, sizeof(mk48));
    for (j = 0; j < sizeof(mk512); j++)
        mk512[j] = (unsigned char)(j * 7);
    for (j = 0; j < sizeof(ctx32); j++)
        ctx32[j] = (unsigned char)(0x80 + j);
    switch (i) {
    case 0: return mk(0xc02f, TLS1_2_VERSION, id32, 32, mk48, 48, b4, 4, 1700000000L, 7200);
    case 1: return mk(0x1301, TLS1_3_VERSION, id32, 16, mk48, 48, ctx32, 32, 0x7fffffffL, 604800);
    case 2: return mk(0x1303, TLS1_3_VERSION, id32, 32, mk512, 512, b4, 2, 1700000000L, 300);
    case 3: return mk(0x009c, TLS1_VERSION, NULL, 0, NULL, 0, NULL, 0, 1, 1);
    case 4: return mk(0xcca8, DTLS1_2_VERSION, id32, 32, mk48, 48, NULL, 0, -1700000000L, 255);
    case 5: return mk(0xc009, TLS1_1_VERSION, id32, 8, mk48, 48, NULL, 0, 128, 0x7fffffffffffffffL);
    case 6: return mk(0, TLS1_2_VERSION, id32, 32, mk48, 48, NULL, 0, 5, 5);
    case 7: return mk(0xc030, TLS1_2_VERSION, id32, 1, mk48, 47, b4, 1, 65535, 65536);
    default: return mk(0x1305, TLS1_3_VERSION, id32, 32, mk48, 32, ctx32, 3, 128, 127);
    }
}

static int do_enc(void)
{
    int i;

    for (i = 0; i < NCASES; i++) {
        SSL_SESSION *s = build(i);
        unsigned char *der;
        int len = encode(s, &der);

        printf("ENC %s ", case_names[i]);
        print_hex(der, (size_t)len);
        printf("\n");
        print_fields(case_names[i], s, 0, 0);
        free(der);
        SSL_SESSION_free(s);
    }
    return 0;
}

static int do_dec(const char *file)
{
    FILE *f = fopen(file, "r");
    char line[8192], name[128], hex[4096];
    static unsigned char buf[2048];

    if (f == NULL)
        die("cannot open input");
    while (fgets(line, sizeof(line), f) != NULL) {
        long n;
        const unsigned char *p;
        unsigned char *der;
        SSL_SESSION *s;
        int len;

        if (sscanf(line, "ENC %127s %4095s", name, hex) != 2)
            continue;
        n = parse_hex(hex, buf, sizeof(buf));
        if (n < 0)
            die("bad hex");
        if (n == 0) {
            printf("FIELDS %s no encoding\n", name);
            continue;
        }
        p = buf;
        s = d2i_SSL_SESSION(NULL, &p, n);
        if (s == NULL) {
            printf("FIELDS %s d2i failed\n", name);
            continue;
        }
        if (p != buf + n)
            printf("FIELDS %s cursor at %ld of %ld\n", name, (long)(p - buf), n);
        print_fields(name, s, 0, 0);
        len = encode(s, &der);
        printf("REENC %s ", name);
        print_hex(der, (size_t)len);
        printf("\n");
        free(der);
        SSL_SESSION_free(s);
    }
    fclose(f);
    return 0;
}

/* The current second from CLOCK_REALTIME itself: time(NULL) reads glibc's coarse clock, which
 * can still show the previous second for a few milliseconds after the library's clock (Rust's
 * SystemTime) has moved on, so a session made just then looked older than `after`. */
static time_t precise_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        die("clock_gettime");
    return ts.tv_sec;
}

/* d2i of exactly `len` bytes copied to their own allocation (an over-read leaves it). */
static void try_decode(const char *label, const unsigned char *in, long len, long buflen)
{
    unsigned char *copy = malloc(buflen > 0 ? (size_t)buflen : 1);
    const unsigned char *p;
    SSL_SESSION *s;
    time_t before, after;

    if (copy == NULL)
        die("malloc");
    if (buflen > 0)
        memcpy(copy, in, (size_t)buflen);
    p = copy;
    before = time(NULL);
    s = d2i_SSL_SESSION(NULL, &p, len);
    after = precise_now();
    printf("%s ", label);
    if (s == NULL) {
        printf("ERR%s\n", p == copy ? "" : " cursor-moved");
    } else {
        unsigned char *der;
        int dlen;
        long t = (long)SSL_SESSION_get_time(s);

        printf("OK consumed=%ld ", (long)(p - copy));
        if (t >= (long)before && t <= (long)after)
            SSL_SESSION_set_time(s, FIXED_NOW);
        dlen = encode(s, &der);
        print_hex(der, (size_t)dlen);
        printf("\n");
        print_fields(label, s, before, after);
        free(der);
        SSL_SESSION_free(s);
    }
    free(copy);
}

static int do_mut(void)
{
    static const int ops[] = { 0x01, 0x80, 0xff, -1, -2 }; /* xor, xor, xor, set 00, +1 */
    char label[160];
    int i;

    for (i = 0; i < NCASES; i++) {
        SSL_SESSION *s = build(i), *t, *r;
        unsigned char *der, *pad;
        const unsigned char *p;
        int len = encode(s, &der);
        long k, pos;
        size_t o;

        SSL_SESSION_free(s);
        if (len == 0) {
            printf("MUT %s no encoding\n", case_names[i]);
            continue;
        }
        /* every proper prefix */
        for (k = 0; k < len; k++) {
            snprintf(label, sizeof(label), "TRUNC %s %ld", case_names[i], k);
            try_decode(label, der, k, k);
        }
        /* lengths that are not the buffer's */
        snprintf(label, sizeof(label), "LEN %s -1", case_names[i]);
        try_decode(label, der, -1, len);
        snprintf(label, sizeof(label), "LEN %s min", case_names[i]);
        try_decode(label, der, (long)0x8000000000000000UL, len);
        /* trailing bytes are not consumed */
        pad = malloc((size_t)len + 3);
        if (pad == NULL)
            die("malloc");
        memcpy(pad, der, (size_t)len);
        memcpy(pad + len, "\x00\x00\xff", 3);
        snprintf(label, sizeof(label), "PAD %s", case_names[i]);
        try_decode(label, pad, len + 3, len + 3);
        free(pad);
        /* one byte changed, everywhere (the long master key: the first 40 bytes only) */
        for (pos = 0; pos < len && pos < 200; pos++) {
            for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
                unsigned char save = der[pos];

                if (ops[o] > 0)
                    der[pos] ^= (unsigned char)ops[o];
                else if (ops[o] == -1)
                    der[pos] = 0;
                else
                    der[pos] = (unsigned char)(der[pos] + 1);
                if (der[pos] != save) {
                    snprintf(label, sizeof(label), "MUT %s %ld %d", case_names[i], pos, ops[o]);
                    try_decode(label, der, len, len);
                }
                der[pos] = save;
            }
        }
        /* reuse: d2i(&t) with t == NULL stores the new object; with t set, fills t itself */
        t = NULL;
        p = der;
        r = d2i_SSL_SESSION(&t, &p, len);
        printf("REUSE %s new: ret=%s stored=%s consumed=%ld\n", case_names[i], r != NULL ? "obj" : "NULL",
               t == r ? "same" : "different", (long)(p - der));
        s = build((i + 1) % NCASES);
        t = s;
        p = der;
        r = d2i_SSL_SESSION(&t, &p, len);
        printf("REUSE %s existing: ret=%s a=%s\n", case_names[i], r == s ? "same" : "other",
               t == s ? "kept" : "replaced");
        print_fields(case_names[i], s, 0, 0);
        if (r != NULL && r != s)
            SSL_SESSION_free(r);
        SSL_SESSION_free(s);
        free(der);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    g_ctx = SSL_CTX_new(TLS_server_method());
    g_ssl = g_ctx != NULL ? SSL_new(g_ctx) : NULL;
    if (g_ssl == NULL)
        die("SSL_new");
    if (argc == 2 && strcmp(argv[1], "enc") == 0)
        rc = do_enc();
    else if (argc == 3 && strcmp(argv[1], "dec") == 0)
        rc = do_dec(argv[2]);
    else if (argc == 2 && strcmp(argv[1], "mut") == 0)
        rc = do_mut();
    else
        die("usage: der_compare enc | dec FILE | mut");
    SSL_free(g_ssl);
    SSL_CTX_free(g_ctx);
    return rc;
}
