/*
 * layout.c - the harness's handshake traffic around each session (see layout.h).
 */
#define _GNU_SOURCE
#include "layout.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nginx_trace.h"

/* The synthetic server layout: per handshake, SHORT_BLOCKS short-lived buffers (two of 4-16 KB,
 * the record buffers and the handshake message buffer, and the rest of 0.5-2 KB), MIDDLE_BLOCKS
 * more made and freed while the session exists (key exchange), and CONN_BLOCKS that live as
 * long as the connection (the connection and SSL objects, 0.5-8 KB and 64-256 B). */
#define SHORT_BLOCKS 4
#define MIDDLE_BLOCKS 2
#define CONN_BLOCKS 4
#define MAX_CONN_BLOCKS 32

struct noise {
    enum layout layout;
    uint64_t rng;
    size_t held;
    /* the current handshake's blocks */
    void *block[NGINX_TRACE_BLOCKS > SHORT_BLOCKS + CONN_BLOCKS ? NGINX_TRACE_BLOCKS
                                                                  : SHORT_BLOCKS + CONN_BLOCKS];
    int pos; /* nginx: the next trace event */
    /* the open connections, each with the blocks it frees when it closes */
    void *conn[LAYOUT_CONNECTIONS][MAX_CONN_BLOCKS];
    int conn_n[LAYOUT_CONNECTIONS];
    int conn_pos;
};

int layout_parse(const char *name)
{
    if (strcmp(name, "server") == 0)
        return LAYOUT_SERVER;
    if (strcmp(name, "nginx") == 0)
        return LAYOUT_NGINX;
    if (strcmp(name, "pooled") == 0)
        return LAYOUT_POOLED;
    return -1;
}

const char *layout_name(enum layout l)
{
    switch (l) {
    case LAYOUT_SERVER: return "server";
    case LAYOUT_NGINX: return "nginx";
    case LAYOUT_POOLED: return "pooled";
    }
    return "?";
}

static uint64_t next(noise_t *z)
{ /* xorshift64* */
    uint64_t x = z->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    z->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* A size between lo and hi, uniform in its logarithm (as many small blocks as large ones). */
static size_t log_uniform(noise_t *z, size_t lo, size_t hi)
{
    double u = (double)(next(z) >> 11) / 9007199254740992.0;
    size_t s = (size_t)((double)lo * pow((double)hi / (double)lo, u));
    return s < lo ? lo : s > hi ? hi : s;
}

static void *get(noise_t *z, size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    size_t i;
    if (p == NULL) {
        fprintf(stderr, "bench: FATAL: out of memory in the harness\n");
        exit(2);
    }
    /* Resident, as a server's buffers are once written. */
    for (i = 0; i < n; i += 4096)
        p[i] = (unsigned char)i;
    z->held += malloc_usable_size(p);
    return p;
}

static void put(noise_t *z, void *p)
{
    if (p != NULL) {
        z->held -= malloc_usable_size(p);
        free(p);
    }
}

noise_t *noise_new(enum layout l, uint64_t seed)
{
    noise_t *z = calloc(1, sizeof(*z));
    if (z == NULL) {
        fprintf(stderr, "bench: FATAL: out of memory in the harness\n");
        exit(2);
    }
    z->layout = l;
    z->rng = seed | 1;
    return z;
}

/* Closes the connection opened LAYOUT_CONNECTIONS handshakes ago; its slot is the current one. */
static void close_oldest(noise_t *z)
{
    int s = z->conn_pos, i;
    for (i = 0; i < z->conn_n[s]; i++)
        put(z, z->conn[s][i]);
    z->conn_n[s] = 0;
}

static void keep_for_connection(noise_t *z, void *p)
{
    int s = z->conn_pos;
    if (z->conn_n[s] == MAX_CONN_BLOCKS)
        put(z, p); /* never with the recorded trace (28 such blocks) */
    else
        z->conn[s][z->conn_n[s]++] = p;
}

/* nginx: replays trace events until the marker `until` ('s' or 'a'), or to the end (0). */
static void replay(noise_t *z, char until)
{
    for (; z->pos < NGINX_TRACE_EVENTS; z->pos++) {
        char op = nginx_trace[z->pos].op;
        int b = nginx_trace[z->pos].block;
        if (op == until) {
            z->pos++;
            return;
        }
        switch (op) {
        case 'm': z->block[b] = get(z, nginx_trace_size[b]); break;
        case 'f': put(z, z->block[b]); z->block[b] = NULL; break;
        case 'c': keep_for_connection(z, z->block[b]); z->block[b] = NULL; break;
        default: break;
        }
    }
}

void noise_before(noise_t *z)
{
    int i;
    switch (z->layout) {
    case LAYOUT_POOLED:
        return;
    case LAYOUT_NGINX:
        z->pos = 0;
        replay(z, 's');
        return;
    case LAYOUT_SERVER:
        for (i = 0; i < CONN_BLOCKS; i++)
            z->block[SHORT_BLOCKS + i] = get(z, i == 0 ? log_uniform(z, 512, 8192)
                                                        : log_uniform(z, 64, 256));
        for (i = 0; i < SHORT_BLOCKS; i++)
            z->block[i] = get(z, i < 2 ? log_uniform(z, 4096, 16384) : log_uniform(z, 512, 2048));
        return;
    }
}

void noise_middle(noise_t *z)
{
    void *p[MIDDLE_BLOCKS];
    int i;
    switch (z->layout) {
    case LAYOUT_POOLED:
        return;
    case LAYOUT_NGINX:
        replay(z, 'a');
        return;
    case LAYOUT_SERVER:
        for (i = 0; i < MIDDLE_BLOCKS; i++)
            p[i] = get(z, log_uniform(z, 512, 4096));
        for (i = 0; i < MIDDLE_BLOCKS; i++)
            put(z, p[i]);
        return;
    }
}

void noise_after(noise_t *z)
{
    int i;
    if (z->layout == LAYOUT_POOLED)
        return;
    close_oldest(z);
    if (z->layout == LAYOUT_NGINX) {
        replay(z, 0);
    } else {
        for (i = 0; i < SHORT_BLOCKS; i++) {
            put(z, z->block[i]);
            z->block[i] = NULL;
        }
        for (i = 0; i < CONN_BLOCKS; i++) {
            keep_for_connection(z, z->block[SHORT_BLOCKS + i]);
            z->block[SHORT_BLOCKS + i] = NULL;
        }
    }
    z->conn_pos = (z->conn_pos + 1) % LAYOUT_CONNECTIONS;
}

size_t noise_held(const noise_t *z)
{
    return z ? z->held : 0;
}

void noise_free(noise_t *z)
{
    size_t i;
    if (z == NULL)
        return;
    for (i = 0; i < sizeof(z->block) / sizeof(z->block[0]); i++)
        put(z, z->block[i]);
    for (z->conn_pos = 0; z->conn_pos < LAYOUT_CONNECTIONS; z->conn_pos++)
        close_oldest(z);
    free(z);
}
