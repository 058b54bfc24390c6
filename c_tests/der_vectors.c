/*
 * der_vectors.c - prints the SSL_SESSION DER test vectors used by
 * src/core/der.rs, computed by the system OpenSSL (3.0.x).
 *
 * Build:  cc -Wall -O1 -o der_vectors c_tests/der_vectors.c -lssl -lcrypto
 * Run:    ./der_vectors            (all vectors; deterministic output)
 *         ./der_vectors HEX...     (decode the given encodings only)
 *
 * Output lines:
 *   ENC <name> <hex of i2d_SSL_SESSION, or "-" when i2d returns 0>
 *   DEC <name> <input hex> OK <consumed> <re-encoded hex> [fields]
 *   DEC <name> <input hex> ERR <lib>:<reason> [...more errors]
 *   TRUNC <name> <n> prefixes, <k> accepted
 *
 * For DEC ... OK, a session whose encoding has no (or a zero) time gets
 * "time=now"; its time is then set to FIXED_NOW (1234567) before it is
 * re-encoded, so the re-encoding is deterministic.  The Rust tests decode
 * with now = 1234567 and compare their re-encoding with the one printed here.
 */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "osslutil.h"

#define FIXED_NOW 1234567L

static SSL_CTX *g_ctx;
static SSL *g_ssl;

/* ------------------------------------------------------------------ */
/* hex helpers                                                         */

/* Parses hex, ignoring spaces; returns length or -1. */
/* ------------------------------------------------------------------ */
/* encoding vectors                                                    */

static void print_enc(const char *name, SSL_SESSION *s)
{
    unsigned char *der = NULL;
    int len = i2d_SSL_SESSION(s, &der);

    printf("ENC %s ", name);
    print_hex(der, len > 0 ? (size_t)len : 0);
    printf("\n");
    OPENSSL_free(der);
}

static SSL_SESSION *mk(unsigned int code, int version,
                       const unsigned char *id, unsigned int idlen,
                       const unsigned char *mkey, size_t mklen,
                       const unsigned char *ctx, unsigned int ctxlen,
                       long t, long tmo)
{
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char cb[2];

    cb[0] = (unsigned char)(code >> 8);
    cb[1] = (unsigned char)code;
    if (s == NULL)
        exit(2);
    if (code != 0 && !SSL_SESSION_set_cipher(s, SSL_CIPHER_find(g_ssl, cb)))
        exit(3);
    if (!SSL_SESSION_set_protocol_version(s, version)
        || !SSL_SESSION_set1_id(s, id, idlen)
        || !SSL_SESSION_set1_master_key(s, mkey, mklen)
        || !SSL_SESSION_set1_id_context(s, ctx, ctxlen))
        exit(4);
    SSL_SESSION_set_time(s, t);
    SSL_SESSION_set_timeout(s, tmo);
    return s;
}

static void enc_vectors(void)
{
    unsigned char id32[32], mk48[48], mk512[512], ctx32[32], b[64];
    SSL_SESSION *s;
    size_t i;

    memset(id32, 0xab, sizeof(id32));
    memset(mk48, 0xcd, sizeof(mk48));
    for (i = 0; i < sizeof(mk512); i++)
        mk512[i] = (unsigned char)i;
    for (i = 0; i < sizeof(ctx32); i++)
        ctx32[i] = (unsigned char)(0x80 + i);
    memcpy(b, "\x01\x02\x03\x04", 4);

    /* spec 7.1 measured vector */
    s = mk(0xc02f, TLS1_2_VERSION, id32, 32, mk48, 48, b, 4, 1700000000L, 7200);
    print_enc("spec71", s);
    if (!SSL_SESSION_set1_hostname(s, "example.com")
        || !SSL_SESSION_set1_alpn_selected(s, (const unsigned char *)"h2", 2)
        || !SSL_SESSION_set_max_early_data(s, 16384))
        exit(5);
    print_enc("spec71_ext", s);
    if (!SSL_SESSION_set1_ticket_appdata(s, "appdata", 7))
        exit(5);
    print_enc("spec71_appdata", s);
    SSL_SESSION_free(s);

    s = mk(0x1301, TLS1_3_VERSION, NULL, 0, mk48, 48, NULL, 0, 1, 1);
    print_enc("tls13_aes128_empty_id", s);
    SSL_SESSION_free(s);
    s = mk(0x1302, TLS1_3_VERSION, id32, 16, mk48, 48, ctx32, 32, 0x7fffffffL, 604800);
    print_enc("tls13_aes256_ctx32", s);
    SSL_SESSION_free(s);
    s = mk(0x1303, TLS1_3_VERSION, id32, 1, mk512, 512, b, 1, 1700000000L, 300);
    print_enc("tls13_chacha_mk512", s);
    SSL_SESSION_free(s);
    s = mk(0x1305, TLS1_3_VERSION, id32, 32, mk48, 0, NULL, 0, 128, 127);
    print_enc("tls13_ccm8_empty_mk", s);
    SSL_SESSION_free(s);
    s = mk(0x002f, TLS1_VERSION, id32, 32, mk48, 48, NULL, 0, 0, 0);
    print_enc("tls10_time0_timeout0", s);
    SSL_SESSION_free(s);
    s = mk(0xc009, TLS1_1_VERSION, id32, 8, mk48, 48, NULL, 0, -1, 0x7fffffffffffffffL);
    print_enc("tls11_neg_time_huge_timeout", s);
    SSL_SESSION_free(s);
    s = mk(0x009c, SSL3_VERSION, id32, 32, mk48, 48, NULL, 0, -1700000000L, -5);
    print_enc("ssl3_neg_time_neg_timeout", s);
    SSL_SESSION_free(s);
    s = mk(0xcca8, DTLS1_2_VERSION, id32, 32, mk48, 48, NULL, 0, (long)0x8000000000000000UL, 255);
    print_enc("dtls12_time_min", s);
    SSL_SESSION_free(s);
    s = mk(0x00ff, DTLS1_BAD_VER, id32, 32, mk48, 48, NULL, 0, 0xffffffffL, 0x80);
    print_enc("dtlsbad_scsv", s);
    SSL_SESSION_free(s);
    s = mk(0xff87, TLS1_2_VERSION, id32, 32, mk48, 48, NULL, 0, 65535, 65536);
    print_enc("gost_cipher", s);
    SSL_SESSION_free(s);
    s = mk(0, TLS1_2_VERSION, id32, 32, mk48, 48, NULL, 0, 5, 5);
    print_enc("no_cipher", s);
    SSL_SESSION_free(s);
    s = mk(0xc030, 0, id32, 32, mk48, 48, NULL, 0, 5, 5);
    print_enc("version0", s);
    if (!SSL_SESSION_set1_hostname(s, "")
        || !SSL_SESSION_set1_alpn_selected(s, (const unsigned char *)"", 0)
        || !SSL_SESSION_set_max_early_data(s, 0xffffffffU))
        exit(5);
    print_enc("empty_hostname_alpn", s);
    SSL_SESSION_free(s);
}

/* ------------------------------------------------------------------ */
/* decoding vectors                                                    */

static void print_errors(void)
{
    unsigned long e;
    int n = 0;

    while ((e = ERR_get_error()) != 0) {
        const char *r = ERR_reason_error_string(e);
        const char *l = ERR_lib_error_string(e);

        printf(" %s:%s", l != NULL ? l : "?", r != NULL ? r : "-");
        n++;
    }
    if (n == 0)
        printf(" none");
}

static void dec(const char *name, const unsigned char *in, long len)
{
    const unsigned char *p = in;
    SSL_SESSION *s;
    time_t before = time(NULL), after;

    ERR_clear_error();
    s = d2i_SSL_SESSION(NULL, &p, len);
    after = time(NULL);
    printf("DEC %s ", name);
    print_hex(in, (size_t)len);
    if (s == NULL) {
        printf(" ERR");
        print_errors();
        printf("\n");
        return;
    } else {
        unsigned char *der = NULL;
        int dlen;
        unsigned int n;
        size_t sz;
        const unsigned char *q;
        long t = (long)SSL_SESSION_get_time(s);
        const char *h = SSL_SESSION_get0_hostname(s);
        const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
        X509 *peer = SSL_SESSION_get0_peer(s);

        printf(" OK %ld", (long)(p - in));
        if (t >= (long)before && t <= (long)after) {
            SSL_SESSION_set_time(s, FIXED_NOW);
            t = FIXED_NOW;
        }
        dlen = i2d_SSL_SESSION(s, &der);
        printf(" ");
        print_hex(der, dlen > 0 ? (size_t)dlen : 0);
        OPENSSL_free(der);
        printf(" ver=%x cipher=%s time=%s%ld timeout=%ld",
               SSL_SESSION_get_protocol_version(s),
               c != NULL ? SSL_CIPHER_get_name(c) : "(null)",
               t == FIXED_NOW ? "now:" : "", t,
               (long)SSL_SESSION_get_timeout(s));
        q = SSL_SESSION_get_id(s, &n);
        printf(" idlen=%u", n);
        (void)q;
        sz = SSL_SESSION_get_master_key(s, NULL, 0);
        printf(" mklen=%zu", sz);
        printf(" host=%s", h != NULL ? h : "(null)");
        printf(" comp=%u", SSL_SESSION_get_compress_id(s));
        printf(" mfl=%u", SSL_SESSION_get_max_fragment_length(s));
        printf(" hint=%lu", SSL_SESSION_get_ticket_lifetime_hint(s));
        printf(" peer=%s", peer != NULL ? "yes" : "no");
        printf("\n");
        SSL_SESSION_free(s);
    }
}

static void dech(const char *name, const char *hex)
{
    unsigned char buf[4096];
    long n = parse_hex(hex, buf, sizeof(buf));

    if (n < 0) {
        fprintf(stderr, "bad hex in %s\n", name);
        exit(6);
    }
    dec(name, buf, n);
}

/* Wraps a hex body in a definite-length SEQUENCE (30 LL ...). */
static void decs(const char *name, const char *body_hex)
{
    unsigned char body[4096], buf[4100];
    long n = parse_hex(body_hex, body, sizeof(body)), hl;

    if (n < 0) {
        fprintf(stderr, "bad hex in %s\n", name);
        exit(6);
    }
    buf[0] = 0x30;
    if (n < 128) {
        buf[1] = (unsigned char)n;
        hl = 2;
    } else if (n < 256) {
        buf[1] = 0x81;
        buf[2] = (unsigned char)n;
        hl = 3;
    } else {
        buf[1] = 0x82;
        buf[2] = (unsigned char)(n >> 8);
        buf[3] = (unsigned char)n;
        hl = 4;
    }
    memcpy(buf + hl, body, (size_t)n);
    dec(name, buf, n + hl);
}

/* SEQUENCE { version, TLS1.2, c02f, "aabb", master key of mklen bytes 0x5a } */
static void dec_mk(const char *name, size_t mklen)
{
    unsigned char buf[600];
    static const unsigned char head[] = {
        0x02, 0x01, 0x01, 0x02, 0x02, 0x03, 0x03, 0x04, 0x02, 0xc0, 0x2f,
        0x04, 0x02, 0xaa, 0xbb, 0x04, 0x82
    };
    size_t body = sizeof(head) + 2 + mklen;

    buf[0] = 0x30;
    buf[1] = 0x82;
    buf[2] = (unsigned char)(body >> 8);
    buf[3] = (unsigned char)body;
    memcpy(buf + 4, head, sizeof(head));
    buf[4 + sizeof(head)] = (unsigned char)(mklen >> 8);
    buf[5 + sizeof(head)] = (unsigned char)mklen;
    memset(buf + 6 + sizeof(head), 0x5a, mklen);
    dec(name, buf, (long)(4 + body));
}

/* Every proper prefix of a valid encoding must be rejected. */
static void trunc_check(const char *name, const char *hex)
{
    unsigned char buf[4096];
    long n = parse_hex(hex, buf, sizeof(buf)), i, ok = 0;

    for (i = 0; i < n; i++) {
        const unsigned char *p = buf;
        SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, i);

        if (s != NULL)
            ok++;
        SSL_SESSION_free(s);
    }
    ERR_clear_error();
    printf("TRUNC %s %ld prefixes, %ld accepted\n", name, n, ok);
}

#define V      "020101"
#define TLS12  "02020303"
#define CIPH   "0402c02f"
#define SID    "0402aabb"
#define MK     "0402ccdd"
#define HEAD   V TLS12 CIPH SID MK
#define TIME   "a10602046553f100"
#define TMO    "a20402021c20"
#define CTX    "a4020400"
#define KEX    "b303020100"
#define CERT "308201193081cca003020102020101300506032b6570300c310a300806035504" \
    "030c0174301e170d3236313132363036353233325a170d3236313132373036353233" \
    "325a300c310a300806035504030c0174302a300506032b6570032100bae7dfd9f853" \
    "881bf8ef994312d44f12e130440484b0c97d5156513a67913cbfa3533051301d0603" \
    "551d0e04160414613794dfeb4c7bef1e6e8826d60c8576f3f36614301f0603551d23" \
    "041830168014613794dfeb4c7bef1e6e8826d60c8576f3f36614300f0603551d1301" \
    "01ff040530030101ff300506032b6570034100a3237b8614fdafadd5422771b19068" \
    "90167e5550f92d2cd5a43d3613681d3c7e6e15c36989622a8c4742864b3bccbde5c5" \
    "0a800ff7db41820a626435a1b5350e"

static void dec_vectors(void)
{
    /* --- well-formed ------------------------------------------------ */
    decs("base", HEAD TIME TMO CTX KEX);
    decs("minimal", HEAD);
    decs("no_kex_111_style", HEAD TIME TMO CTX);
    decs("all_fields",
         HEAD TIME TMO CTX "a503020105"
         "a6060404686f7374" "a706040468696e74" "a80604046964656e"
         "a903020164" "aa0504037469 6b" "ab03040101" "ac060404737270 75"
         "ad03020101" "ae0602040102 0304" "af0302017f" "b00404026832"
         "b103020102" "b20504036170 70" "b30302011d");
    decs("key_arg_ignored", HEAD "8008 0102030405060708" TIME);
    decs("key_arg_long_ignored", HEAD "8021 00000000000000000000000000000000"
         "0000000000000000000000000000000000" TIME);
    decs("key_arg_constructed", HEAD "a004 04020102" TIME);
    decs("peer_cert", HEAD TIME "a382011d" CERT CTX KEX);
    decs("peer_garbage", HEAD TIME "a303020100" CTX KEX);
    decs("peer_empty_seq", HEAD TIME "a3023000" CTX KEX);
    decs("trailing_after_seq_ignored", HEAD TIME);
    dech("trailing_bytes", "301b" HEAD TIME "ffff");

    /* --- version / ssl_version -------------------------------------- */
    decs("version2", "020102" TLS12 CIPH SID MK);
    decs("version0", "020100" TLS12 CIPH SID MK);
    decs("version_empty_int", "0200" TLS12 CIPH SID MK);
    decs("version_padded", "02020001" TLS12 CIPH SID MK);
    decs("version_neg", "0201ff" TLS12 CIPH SID MK);
    decs("sslv_0304", V "02020304" CIPH SID MK);
    decs("sslv_0300", V "02020300" CIPH SID MK);
    decs("sslv_03ff", V "020203ff" CIPH SID MK);
    decs("sslv_feff", V "020300feff" CIPH SID MK);
    decs("sslv_fe00", V "020300fe00" CIPH SID MK);
    decs("sslv_0100", V "02020100" CIPH SID MK);
    decs("sslv_0101", V "02020101" CIPH SID MK);
    decs("sslv_0200", V "02020200" CIPH SID MK);
    decs("sslv_0400", V "02020400" CIPH SID MK);
    decs("sslv_0", V "020100" CIPH SID MK);
    decs("sslv_empty_int", V "0200" CIPH SID MK);
    decs("sslv_neg1", V "0201ff" CIPH SID MK);
    decs("sslv_neg_fd03", V "0202fd03" CIPH SID MK);
    decs("sslv_103ff", V "02030103ff" CIPH SID MK);
    decs("sslv_int32max", V "02047fffffff" CIPH SID MK);
    decs("sslv_over_int32", V "02050080000000" CIPH SID MK);
    decs("sslv_int32min", V "020480000000" CIPH SID MK);
    decs("sslv_below_int32", V "0205ff7fffffff" CIPH SID MK);

    /* --- cipher ----------------------------------------------------- */
    decs("cipher_len1", V TLS12 "0401c0" SID MK);
    decs("cipher_len3", V TLS12 "0403c02f00" SID MK);
    decs("cipher_len0", V TLS12 "0400" SID MK);
    decs("cipher_unknown_rc4", V TLS12 "04020005" SID MK);
    decs("cipher_unknown_0000", V TLS12 "04020000" SID MK);
    decs("cipher_scsv", V TLS12 "040200ff" SID MK);
    decs("cipher_tls13_ccm8", V "02020304" "04021305" SID MK);
    decs("cipher_constructed", V TLS12 "2406 0401c0 04012f" SID MK);
    decs("cipher_constructed_indef", V TLS12 "2480 0401c0 04012f 0000" SID MK);
    decs("cipher_constructed_nested", V TLS12 "2408 2406 0401c0 04012f" SID MK);
    decs("cipher_constructed_other_tag", V TLS12 "2406 0c01c0 13012f" SID MK);
    decs("cipher_constructed_ctx_tag", V TLS12 "2406 8001c0 80012f" SID MK);
    decs("cipher_constructed_depth5",
         V TLS12 "240e 240c 240a 2408 2406 0401c0 04012f" SID MK);
    decs("cipher_constructed_depth6",
         V TLS12 "2410 240e 240c 240a 2408 2406 0401c0 04012f" SID MK);
    decs("cipher_constructed_depth7",
         V TLS12 "2412 2410 240e 240c 240a 2408 2406 0401c0 04012f" SID MK);
    decs("cipher_constructed_seq_piece", V TLS12 "2406 3004 0401c0 2f" SID MK);
    decs("cipher_constructed_inner_seq", V TLS12 "2408 3006 0401c0 04012f" SID MK);
    decs("cipher_constructed_eoc", V TLS12 "2408 0401c0 0000 04012f" SID MK);
    decs("cipher_constructed_inner_indef", V TLS12 "240a 2480 0401c0 04012f 0000" SID MK);
    decs("cipher_constructed_empty_pieces", V TLS12 "240a 0400 0401c0 0400 04012f" SID MK);
    decs("cipher_wrong_tag_int", V TLS12 "0202c02f" SID MK);
    decs("cipher_utf8_tag", V TLS12 "0c02c02f" SID MK);

    /* --- lengths of session_id / master_key / sid_ctx --------------- */
    decs("sid_empty", V TLS12 CIPH "0400" MK);
    decs("sid_32", V TLS12 CIPH
         "0420 0000000000000000000000000000000000000000000000000000000000000000" MK);
    decs("sid_33", V TLS12 CIPH
         "0421 000000000000000000000000000000000000000000000000000000000000000000" MK);
    decs("mk_empty", V TLS12 CIPH SID "0400");
    decs("ctx_32", HEAD
         "a422 0420 0000000000000000000000000000000000000000000000000000000000000000");
    decs("ctx_33", HEAD
         "a423 0421 000000000000000000000000000000000000000000000000000000000000000000");
    decs("missing_mk", V TLS12 CIPH SID);
    decs("missing_all", "");
    decs("mk_as_ctx_tag", V TLS12 CIPH SID CTX);

    /* --- time / timeout --------------------------------------------- */
    decs("time_zero", HEAD "a103020100" TMO);
    decs("time_empty_int", HEAD "a1020200" TMO);
    decs("time_neg", HEAD "a1030201fb" TMO);
    decs("time_255", HEAD "a104020200ff" TMO);
    decs("time_padded", HEAD "a10402020001" TMO);
    decs("time_padded_neg", HEAD "a1040202ff80" TMO);
    decs("time_int64max", HEAD "a10a02087fffffffffffffff");
    decs("time_int64min", HEAD "a10a02088000000000000000");
    decs("time_2pow63", HEAD "a10b0209008000000000000000");
    decs("time_neg_2pow63_minus1", HEAD "a10b0209ff7fffffffffffffff");
    decs("time_neg_2pow64_plus1", HEAD "a10b0209ff0000000000000001");
    decs("time_neg_2pow64", HEAD "a10b0209ff0000000000000000");
    decs("time_10bytes", HEAD "a10c020a00ff000000000000000000");
    decs("timeout_zero", HEAD TIME "a203020100");
    decs("timeout_neg", HEAD TIME "a2030201fb");
    decs("timeout_huge", HEAD TIME "a20a02087fffffffffffffff");
    decs("time_primitive_tag", HEAD "8103020105");
    decs("time_explicit_extra", HEAD "a105020105 0000");
    decs("time_explicit_extra2", HEAD "a1050201050500");
    decs("time_explicit_empty", HEAD "a100");
    decs("time_explicit_two_ints", HEAD "a106020105020106");
    decs("time_constructed_int", HEAD "a1052203020105");
    decs("time_wrong_inner_tag", HEAD "a103040105");
    decs("time_dup", HEAD TIME TIME);
    decs("out_of_order", HEAD TMO TIME);
    decs("eoc_between", HEAD "0000" TIME);

    /* --- verify_result ---------------------------------------------- */
    decs("verify_5", HEAD "a503020105");
    decs("verify_neg", HEAD "a5030201ff");
    decs("verify_int32_over", HEAD "a50702050080000000");
    decs("verify_int32min", HEAD "a506020480000000");

    /* --- strings ---------------------------------------------------- */
    decs("host_nul", HEAD "a6070405616200 6364");
    decs("host_nul2", HEAD "a70704056162006364" "a8070405006162 6364");
    decs("host_empty", HEAD "a6020400");
    decs("srp_nul", HEAD "ac0704056162006364");
    decs("ticket_empty", HEAD "aa020400");
    decs("ticket_nul", HEAD "aa0604040000 0000");
    decs("alpn_empty", HEAD "b0020400");
    decs("appdata_empty", HEAD "b2020400");
    decs("appdata_nul", HEAD "b20404020001");
    decs("host_constructed", HEAD "a60a2408 0402 6162 04026364");
    decs("host_indef_explicit", HEAD "a680 0402 6162 0000");
    decs("host_indef_explicit_noeoc", HEAD "a680 0402 6162");
    decs("host_octet_indef", HEAD "a6060480 6162 0000");

    /* --- other integers ---------------------------------------------- */
    decs("hint_neg", HEAD "a9030201ff");
    decs("hint_u64max", HEAD "a90b020900ffffffffffffffff");
    decs("hint_2pow64", HEAD "a90b0209010000000000000000");
    decs("hint_zero", HEAD "a903020100");
    decs("comp_1", HEAD "ab03040101");
    decs("comp_0", HEAD "ab03040100");
    decs("comp_len2", HEAD "ab0404020101");
    decs("comp_len0", HEAD "ab020400");
    decs("flags_1", HEAD "ad03020101");
    decs("flags_trunc", HEAD "ad0702050100000001");
    decs("flags_u64max", HEAD "ad0b020900ffffffffffffffff");
    decs("flags_high", HEAD "ad0702050080000000");
    decs("flags_neg", HEAD "ad030201ff");
    decs("age_u32max", HEAD "ae07020500ffffffff");
    decs("age_2pow32", HEAD "ae0702050100000000");
    decs("age_neg", HEAD "ae030201ff");
    decs("early_u32max", HEAD "af07020500ffffffff");
    decs("mfl_255", HEAD "b104020200ff");
    decs("mfl_zero", HEAD "b103020100");
    decs("mfl_u32max", HEAD "b107020500ffffffff");
    decs("mfl_256", HEAD "b10402020100");
    decs("kex_zero", HEAD "b303020100");
    decs("kex_empty_int", HEAD "b3020200");
    decs("kex_u32max", HEAD "b307020500ffffffff");
    decs("kex_neg", HEAD "b3030201ff");
    decs("kex_over", HEAD "b30702050100000000");

    /* --- unknown / trailing fields ---------------------------------- */
    decs("tag20_after_kex", HEAD KEX "b4020400");
    decs("tag20_no_kex", HEAD "b4020400");
    decs("tag21_no_kex", HEAD "b503020101");
    decs("null_after_kex", HEAD KEX "0500");
    decs("kex_dup", HEAD KEX KEX);

    /* --- length encodings ------------------------------------------- */
    dech("outer_len_long1", "3081 13" HEAD);
    dech("outer_len_long2", "3082 0013" HEAD);
    dech("outer_len_long4", "3084 00000013" HEAD);
    dech("outer_len_long8", "3088 0000000000000013" HEAD);
    dech("outer_len_long9", "3089 000000000000000013" HEAD);
    dech("outer_len_long16", "3090 00000000000000000000000000000013" HEAD);
    dech("outer_len_long9_nonzero", "3089 010000000000000013" HEAD);
    dech("outer_len_long127", "30ff" "0000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000" "13" HEAD);
    dech("outer_len_huge", "3088 7fffffffffffffff" HEAD);
    dech("outer_len_over_long", "3088 8000000000000000" HEAD);
    dech("outer_len_too_big", "3014" HEAD);
    dech("outer_len_too_small", "3012" HEAD);
    dech("outer_indef", "3080" HEAD "0000");
    dech("outer_indef_trailing", "3080" HEAD "0000 ffff");
    dech("outer_indef_noeoc", "3080" HEAD);
    dech("outer_indef_kex", "3080" HEAD KEX "0000");
    dech("outer_indef_extra", "3080" HEAD KEX "0500 0000");
    dech("outer_primitive", "1013" HEAD);
    dech("outer_set", "3113" HEAD);
    dech("outer_hightag", "3f1013" HEAD);
    dech("outer_indef_eoc_first", "3080 0000");
    dech("outer_indef_nested_explicit", "3080" HEAD "a180 02046553f100 0000" "a680 2480 0402 6162 0000 0000" "0000");
    dech("outer_indef_eoc_then_more", "3080" HEAD "0000" KEX);
    dech("outer_definite_inner_indef_overrun", "3017" HEAD "a180 0201 05");
    dech("empty", "");
    dech("one_byte", "30");
    dech("two_bytes", "3000");
    dech("len_of_len_only", "3081");
    dech("reserved_len_ff", "30ff" HEAD);
    decs("field_len_long", V TLS12 "048102c02f" SID MK);
    decs("field_len_long_zero", V TLS12 CIPH SID "048100");
    decs("field_len_long_zero_mid", V TLS12 CIPH "048100" MK);
    decs("field_len_long_zero_last_tag", HEAD "a48102 0400");
    decs("field_len_long_zero_inner_last", HEAD "a403 048100");
    decs("field_hightag_time", HEAD "bf0106020465 53f100");
    decs("field_hightag_time2", HEAD "bf800106020465 53f100");
    decs("field_hightag_octet", V TLS12 "1f0402c02f" SID MK);
    decs("int_hightag", "1f0201 01" TLS12 CIPH SID MK);
    decs("field_indef_primitive", V TLS12 "0480c02f0000" SID MK);
    decs("explicit_tag_class_univ", HEAD "2106020465 53f100");
    decs("explicit_tag_private", HEAD "e106020465 53f100");
    decs("explicit_tag_app", HEAD "6106020465 53f100");
    decs("tag_overflow", HEAD "bf8f ffffff7f 00");
}

int main(int argc, char **argv)
{
    int i;

    g_ctx = SSL_CTX_new(TLS_method());
    if (g_ctx == NULL)
        return 1;
    g_ssl = SSL_new(g_ctx);
    if (g_ssl == NULL)
        return 1;
    if (argc > 1) {
        for (i = 1; i < argc; i++)
            dech("arg", argv[i]);
    } else {
        enc_vectors();
        dec_vectors();
        dec_mk("mk_512", 512);
        dec_mk("mk_513", 513);
        trunc_check("base", "302a" HEAD TIME TMO CTX KEX);
        trunc_check("indef", "3080" HEAD KEX "0000");
    }
    SSL_free(g_ssl);
    SSL_CTX_free(g_ctx);
    return 0;
}
