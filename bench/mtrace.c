/*
 * mtrace.c - an LD_PRELOAD malloc tracer for bench/nginx_trace.sh (not part of the benchmark).
 *
 * Appends one line per heap event to $MTRACE_OUT:
 *   <microseconds> m <size> <address>          malloc, calloc, memalign, ...
 *   <microseconds> f <address>                 free
 *   <microseconds> r <old> <size> <new>        realloc
 * It calls glibc's own entry points (__libc_malloc, ...), so it needs no dlsym. Meant for one
 * single-threaded process (nginx with master_process off).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static int fd = -1;
static __thread int busy;

static void trace(const char *fmt, unsigned long a, unsigned long b, unsigned long c)
{
    struct timespec ts;
    char buf[128];
    int n;
    if (busy)
        return;
    busy = 1;
    if (fd < 0) {
        const char *p = getenv("MTRACE_OUT");
        fd = open(p ? p : "mtrace.out", O_WRONLY | O_CREAT | O_APPEND, 0644);
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    n = snprintf(buf, sizeof buf, "%ld ", (long)ts.tv_sec * 1000000L + ts.tv_nsec / 1000);
    n += snprintf(buf + n, sizeof buf - (size_t)n, fmt, a, b, c);
    if (write(fd, buf, (size_t)n) < 0)
        fd = -2;
    busy = 0;
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    trace("m %lu %lx\n", n, (unsigned long)p, 0);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    trace("m %lu %lx\n", a * b, (unsigned long)p, 0);
    return p;
}

void free(void *p)
{
    if (p)
        trace("f %lx\n", (unsigned long)p, 0, 0);
    __libc_free(p);
}

void *realloc(void *o, size_t n)
{
    void *p = __libc_realloc(o, n);
    trace("r %lx %lu %lx\n", (unsigned long)o, n, (unsigned long)p);
    return p;
}

int posix_memalign(void **r, size_t al, size_t n)
{
    void *p = __libc_memalign(al, n);
    if (p == NULL)
        return 12; /* ENOMEM */
    *r = p;
    trace("m %lu %lx\n", n, (unsigned long)p, 0);
    return 0;
}

void *aligned_alloc(size_t al, size_t n)
{
    void *p = __libc_memalign(al, n);
    trace("m %lu %lx\n", n, (unsigned long)p, 0);
    return p;
}

void *memalign(size_t al, size_t n)
{
    void *p = __libc_memalign(al, n);
    trace("m %lu %lx\n", n, (unsigned long)p, 0);
    return p;
}
