/*
 * harness.h - what bench.c's workloads share: options, ids, sessions, contexts, the library
 * calls that bench/count.py counts, and the output format. Built twice, like bench.c
 * (-DBENCH_OPENSSL for the OpenSSL build).
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "layout.h"

#ifdef BENCH_OPENSSL
#define LIB_NAME "openssl"
#else
#define LIB_NAME "sesscache"
/* Driver functions that exist only in libsesscache. */
int sesscache_handshake_start(SSL *s);
int sesscache_server_lookup(SSL *s, const unsigned char *id, unsigned int id_len);
int sesscache_server_new_session(SSL *s);
int sesscache_handshake_done(SSL *s);
#endif

#define ID_LEN 32
#define SESS_TIMEOUT 7200L
#define MAX_THREADS 256

/* Options (parse_args). */
extern size_t opt_sessions;
extern int opt_threads[MAX_THREADS];
extern int opt_nthreads;
extern double opt_seconds;
extern int opt_reps;
extern const char *opt_only;
extern int opt_callbacks;
extern enum layout opt_layout;

extern noise_t *g_noise;  /* the main thread's handshake traffic (populate, fill) */
extern long g_t0;         /* common session time (equal expiries) */
extern uint64_t g_seq;    /* global session-id sequence (main thread only) */
extern double g_tick_s;   /* seconds per cycle-counter tick (calibrate_ticks) */

void parse_args(int argc, char **argv);
/* 1 when workload w is selected by --only (or no --only was given). */
int want(const char *w);

void die(const char *what);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
double now_s(void);
void calibrate_ticks(void);
/* Resident bytes of the process (-1 if unknown). */
long rss_bytes(void);

/* Random numbers and ids. */
uint64_t splitmix64(uint64_t x);

static inline uint64_t rng_next(uint64_t *s)
{ /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static inline size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

void random_id(uint64_t *rng, unsigned char *id);

/* The library calls that bench/count.py counts (out of line: see harness.c). */
SSL_SESSION *lib_create(int version, long t, uint64_t seq, unsigned char *id_out);
int lib_add(SSL_CTX *ctx, SSL_SESSION *s);
int lib_lookup(SSL *ssl, const unsigned char *id);
int lib_resume(SSL *ssl, const unsigned char *id, SSL_SESSION *cached, SSL_SESSION **prev);

/* New session (caller owns one reference) with the next id of the main thread's sequence. */
SSL_SESSION *new_session(int version, long t, unsigned char *id_out);
/* One full handshake's work on the cache in the server layouts (see harness.c). */
int handshake_add(SSL_CTX *ctx, noise_t *z, int version, long t, uint64_t seq,
                  unsigned char *id_out, int64_t *busy, SSL_SESSION **s_out);
SSL_CTX *new_ctx(long cache_size);
/* Adds n fresh sessions to ctx (untimed); optionally records their ids and sessions. */
void populate(SSL_CTX *ctx, size_t n, int version, long t, unsigned char *ids,
              SSL_SESSION **sess);
/* Prints one RESULT line. */
void result(const char *w, int threads, double v, const char *unit, const char *extra);
/* The version SSL_has_matching_session_id keys on for a fresh SSL, and after the driver's
 * handshake start. */
int fresh_ssl_version(SSL_CTX *ctx);
int handshake_version(SSL_CTX *ctx);

#endif
