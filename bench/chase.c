/*
 * chase.c - the memory latencies that bound the session cache on this machine.
 *
 * A pointer-chasing loop: a buffer of 64-byte lines, each holding the index of the next line
 * of one random cyclic permutation (Sattolo's algorithm), so every load depends on the one
 * before and the prefetchers cannot guess the next line. The time per load is the latency of
 * the level the buffer fits in: L1, L2, L3, or memory (a buffer far larger than the L3).
 *
 * The memory figure is given twice: on 4 KiB pages (what a malloc heap gets, so a miss
 * usually also misses the TLB) and on transparent huge pages when the kernel grants them.
 * "chains=K" runs K independent chases interleaved in one loop: how many misses one core
 * overlaps when the loads do not depend on each other (the cost per load falls with K until
 * the core's miss buffers are full). Lookups of unrelated keys are independent in this way,
 * so the throughput limit of a workload lies between 1/latency and K/latency per core.
 *
 * On a shared virtual machine the L3 is shared with other tenants, so the buffer size at which
 * loads start to cost a memory access is itself a measurement: the sizes between 2 and 32 MiB
 * show where it lies.
 *
 * Each figure is the median of --reps timed passes (the machine is noisy).
 * Output: one line per figure,
 *   CHASE size=<bytes> pages=<4k|huge> chains=<K> ns=<median per load> min=<..> max=<..>
 *
 * Usage: chase [--max-mib M] [--seconds S] [--reps R]
 *        (defaults: 1024 MiB, 0.2 s per pass, 5 passes)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LINE 64
#define MAX_CHAINS 16

typedef struct line {
    uint64_t next;
    char pad[LINE - sizeof(uint64_t)];
} line_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x5e55cac4e1234567ULL;

static uint64_t rng_next(void)
{ /* xorshift64* */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static line_t *map_lines(size_t n, int huge)
{
    size_t bytes = n * sizeof(line_t);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    return p;
}

/* One random cycle through all n lines (Sattolo). */
static void link_cycle(line_t *a, size_t n)
{
    uint64_t *perm = malloc(n * sizeof(*perm));
    size_t i;
    if (perm == NULL) {
        perror("malloc");
        exit(2);
    }
    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rng_next() % i);
        uint64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (i = 0; i < n; i++)
        a[perm[i]].next = perm[(i + 1) % n];
    free(perm);
}

static volatile uint64_t sink;
static int opt_reps = 5;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns per load with `chains` chases interleaved, each starting at a different line. */
static double chase(line_t *a, size_t n, int chains, double seconds)
{
    uint64_t p[MAX_CHAINS];
    uint64_t loads = 0;
    double t0, t1;
    int c;
    for (c = 0; c < chains; c++)
        p[c] = (uint64_t)c * (n / (size_t)chains);
    /* Warm up: one pass over the cycle brings the buffer into whatever level holds it. */
    for (size_t i = 0; i < n && i < 4000000; i++)
        p[0] = a[p[0]].next;
    t0 = now_s();
    do {
        for (int k = 0; k < 4096; k++)
            for (c = 0; c < chains; c++)
                p[c] = a[p[c]].next;
        loads += 4096 * (uint64_t)chains;
        t1 = now_s();
    } while (t1 - t0 < seconds);
    for (c = 0; c < chains; c++)
        sink += p[c];
    return (t1 - t0) * 1e9 / (double)loads;
}

/* Median (and range) of --reps passes; prints the figure. */
static void figure(line_t *a, size_t n, const char *pages, int chains, double seconds)
{
    double t[64];
    int r, reps = opt_reps < 64 ? opt_reps : 64;
    for (r = 0; r < reps; r++)
        t[r] = chase(a, n, chains, seconds);
    qsort(t, (size_t)reps, sizeof(t[0]), cmp_double);
    printf("CHASE size=%zu pages=%s chains=%d ns=%.2f min=%.2f max=%.2f\n", n * LINE, pages, chains,
           t[reps / 2], t[0], t[reps - 1]);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    size_t max_mib = 1024;
    double seconds = 0.2;
    static const size_t kib[] = {16, 256, 768, 2048, 4096, 8192, 16384, 32768};
    int i;
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--max-mib") == 0)
            max_mib = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--reps") == 0)
            opt_reps = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 1;
        else {
            fprintf(stderr, "usage: %s [--max-mib M] [--seconds S] [--reps R]\n", argv[0]);
            return 1;
        }
    }
    /* Levels: a buffer well inside each. */
    for (i = 0; i < (int)(sizeof(kib) / sizeof(kib[0])); i++) {
        size_t n = kib[i] * 1024 / LINE;
        line_t *a = map_lines(n, 0);
        link_cycle(a, n);
        figure(a, n, "4k", 1, seconds);
        munmap(a, n * LINE);
    }
    /* Memory: far larger than the L3, on both page sizes, with 1..16 independent chains. */
    for (int huge = 0; huge <= 1; huge++) {
        size_t n = max_mib * 1024 * 1024 / LINE;
        line_t *a = map_lines(n, huge);
        static const int ks[] = {1, 2, 4, 8, 16};
        link_cycle(a, n);
        for (int k = 0; k < (int)(sizeof(ks) / sizeof(ks[0])); k++)
            figure(a, n, huge ? "huge" : "4k", ks[k], seconds);
        munmap(a, n * LINE);
    }
    return 0;
}
