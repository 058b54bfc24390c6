/*
 * osslutil.h - helpers shared by the C programs written against the system <openssl/ssl.h>
 * (c_tests/handshakes.c, der_compare.c, der_vectors.c, preload/ext_server.c, preload/load.c).
 *
 * Always: die() (a setup failure: a line on stderr, exit status 2), expect() and the
 * `failures` count (a failed expectation: a line on stdout, exit status 1 at the end), and
 * hex printing and parsing.
 *
 * With OSSLUTIL_TLS defined before the include, for programs linked with the real libssl and
 * libcrypto: die() also prints OpenSSL's error queue, and the in-memory TLS helpers (a
 * throw-away certificate, memory BIOs, one handshake step) and a count of live SSL_SESSION
 * objects (through ex_data) are available.
 *
 * Everything is `static inline` (or marked unused), so a program uses any subset without
 * warnings under -Wall -Wextra -Werror.
 */
#ifndef SESSCACHE_OSSLUTIL_H
#define SESSCACHE_OSSLUTIL_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>

#ifdef OSSLUTIL_TLS
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#endif

/* A setup step failed: the program cannot go on. */
__attribute__((noreturn)) static inline void die(const char *what)
{
    fprintf(stderr, "fatal: %s\n", what);
#ifdef OSSLUTIL_TLS
    ERR_print_errors_fp(stderr);
#endif
    exit(2);
}

/* Failed expectations so far; a program exits 1 when it is not 0. */
__attribute__((unused)) static int failures;

static inline void expect(int cond, const char *what)
{
    if (!cond) {
        printf("EXPECTATION FAILED: %s\n", what);
        failures++;
    }
}

/* Prints `n` bytes as lower-case hex, or "-" when there are none. */
static inline void print_hex(const unsigned char *p, size_t n)
{
    size_t i;

    if (n == 0)
        fputs("-", stdout);
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
}

/* Reads hex digits (white space between them is skipped; "-" is empty) into `out`; returns
 * the number of bytes, or -1 for an odd count, a non-hex character or more than `max`. */
static inline long parse_hex(const char *s, unsigned char *out, size_t max)
{
    size_t n = 0;
    int hi = -1;

    if (strcmp(s, "-") == 0)
        return 0;
    for (; *s != '\0'; s++) {
        int v;

        if (isspace((unsigned char)*s))
            continue;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= max)
                return -1;
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)n : -1;
}

#ifdef OSSLUTIL_TLS

/* A self-signed P-256 certificate and its key for CN=`cn`, valid from an hour ago for a day. */
static inline void make_cert_for(const char *cn, EVP_PKEY **key, X509 **cert)
{
    X509_NAME *name;

    *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    *cert = X509_new();
    if (*key == NULL || *cert == NULL || !X509_set_version(*cert, 2)
        || !ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1)
        || X509_gmtime_adj(X509_getm_notBefore(*cert), -3600) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(*cert), 86400) == NULL)
        die("cert");
    name = X509_get_subject_name(*cert);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0)
        || !X509_set_issuer_name(*cert, name) || !X509_set_pubkey(*cert, *key)
        || X509_sign(*cert, *key, EVP_sha256()) <= 0)
        die("sign");
}

/* Gives `s` a pair of memory BIOs that report "retry" when empty. */
static inline void attach_bios(SSL *s)
{
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());

    if (r == NULL || w == NULL)
        die("BIO_new");
    BIO_set_mem_eof_return(r, -1);
    BIO_set_mem_eof_return(w, -1);
    SSL_set_bio(s, r, w);
}

/* Moves what `from` wrote to `to`'s input; returns the number of bytes moved. */
static inline int pump(SSL *from, SSL *to)
{
    unsigned char buf[4096];
    int n, moved = 0;

    while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof(buf))) > 0) {
        if (BIO_write(SSL_get_rbio(to), buf, n) != n)
            die("BIO_write");
        moved += n;
    }
    return moved;
}

/* One SSL_do_handshake: 1 done, 0 wants more input, -1 failed (reported on stderr when
 * HS_DEBUG is set in the environment). */
static inline int step(SSL *s)
{
    int r = SSL_do_handshake(s), e;

    if (r == 1)
        return 1;
    e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (getenv("HS_DEBUG") != NULL) {
        fprintf(stderr, "[%s handshake failed]\n", SSL_is_server(s) ? "server" : "client");
        ERR_print_errors_fp(stderr);
    }
    return -1;
}

/* SSL_SESSION objects alive in the process, counted through ex_data once
 * count_live_sessions() has run (before the first session is made). */
__attribute__((unused)) static long live_sessions;

static inline void osslutil_sess_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    __atomic_add_fetch(&live_sessions, 1, __ATOMIC_RELAXED);
}

static inline void osslutil_sess_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    __atomic_sub_fetch(&live_sessions, 1, __ATOMIC_RELAXED);
}

static inline void count_live_sessions(void)
{
    if (SSL_SESSION_get_ex_new_index(0, NULL, osslutil_sess_new, NULL, osslutil_sess_free) < 0)
        die("SSL_SESSION_get_ex_new_index");
}

#endif /* OSSLUTIL_TLS */

#endif /* SESSCACHE_OSSLUTIL_H */
