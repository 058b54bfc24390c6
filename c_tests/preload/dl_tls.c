/* Loads libssl the ways real programs do, and runs tls_api.h's scenarios (TLS 1.2 and 1.3
 * resumption, early data and its replay, the server's statistics) in each. The program itself
 * is linked with neither libssl nor libcrypto. Its transcript must be the same with and without
 * libsesscache_preload.so.
 *
 * Usage: dl_tls CERT KEY MODE DIR
 * DIR holds tls_module.so (linked with libssl.so.3) and tls_module_copy.so (linked with a copy
 * of it under another soname, found by its rpath).
 *   local, global, deepbind: dlopen(DIR/tls_module.so) with RTLD_LOCAL, RTLD_GLOBAL or
 *        RTLD_DEEPBIND, as interpreters open their TLS modules; libssl comes with it
 *   late: a call of the global scope's SSL_CTX_get_timeout (the preload's, when preloaded)
 *        before any libssl is loaded, then the module (local), then its libssl made global
 *   two: both modules, local: two libssl copies in one process, each running the scenarios
 *   direct: dlopen("libssl.so.3", RTLD_LOCAL) and the functions from dlsym(handle): the
 *        program's calls bind straight to libssl, so only libssl's own calls (SSL_CTX_new,
 *        add, remove, flush) reach the preload; statistics are not shown (it reads libssl's)
 *   tls12-mode=HEX: the module (global), the TLS 1.2 scenario only, server cache mode HEX */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "tls_api.h"

typedef void (*run_fn)(const char *, const char *, const char *, const char *);

static void *open_or_die(const char *path, int flags)
{
    void *h = dlopen(path, flags);
    if (h == NULL) {
        printf("FAIL dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    return h;
}

static void *sym_or_die(void *h, const char *name)
{
    void *p = dlsym(h, name);
    if (p == NULL) {
        printf("FAIL dlsym %s\n", name);
        exit(1);
    }
    return p;
}

/* Opens DIR/NAME with FLAGS and runs its scenarios under TAG. */
static void *run_module(const char *dir, const char *name, int flags, const char *tag, const char *cert,
                        const char *key, const char *only)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    void *h = open_or_die(path, flags);
    ((run_fn)sym_or_die(h, "tls_module_run"))(tag, cert, key, only);
    return h;
}

static void api_load(Api *a, void *h)
{
#define API_LOAD_ONE(f) a->f = (__typeof__(f) *)sym_or_die(h, #f);
    API_FUNCS(API_LOAD_ONE)
#undef API_LOAD_ONE
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s CERT KEY MODE DIR\n", argv[0]);
        return 2;
    }
    const char *cert = argv[1], *key = argv[2], *mode = argv[3], *dir = argv[4];
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (strcmp(mode, "local") == 0) {
        run_module(dir, "tls_module.so", RTLD_NOW | RTLD_LOCAL, mode, cert, key, NULL);
    } else if (strcmp(mode, "global") == 0) {
        run_module(dir, "tls_module.so", RTLD_NOW | RTLD_GLOBAL, mode, cert, key, NULL);
    } else if (strcmp(mode, "deepbind") == 0) {
        run_module(dir, "tls_module.so", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND, mode, cert, key, NULL);
    } else if (strcmp(mode, "late") == 0) {
        long (*first)(const SSL_CTX *) = (long (*)(const SSL_CTX *))dlsym(RTLD_DEFAULT, "SSL_CTX_get_timeout");
        printf("late: before libssl, SSL_CTX_get_timeout(NULL) = %ld\n", first ? first(NULL) : 0L);
        void *h = run_module(dir, "tls_module.so", RTLD_NOW | RTLD_LOCAL, "late-local", cert, key, NULL);
        /* The entry point found before libssl was loaded (without the preload there is none:
         * the module's own libssl answers). */
        SSL_CTX *c = ((SSL_CTX * (*)(void)) sym_or_die(h, "tls_module_ctx"))();
        long want = ((long (*)(const SSL_CTX *))sym_or_die(h, "tls_module_timeout"))(c);
        long got = first ? first(c) : want;
        printf("late: the first SSL_CTX_get_timeout now %s libssl's\n", got == want ? "agrees with" : "differs from");
        ((void (*)(SSL_CTX *))sym_or_die(h, "tls_module_free"))(c);
        printf("late: libssl made global: %s\n",
               dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) != NULL ? "yes" : "no");
        ((run_fn)sym_or_die(h, "tls_module_run"))("late-global", cert, key, NULL);
    } else if (strcmp(mode, "two") == 0) {
        void *ha = run_module(dir, "tls_module.so", RTLD_NOW | RTLD_LOCAL, "A", cert, key, NULL);
        void *hb = run_module(dir, "tls_module_copy.so", RTLD_NOW | RTLD_LOCAL, "B", cert, key, NULL);
        Dl_info ia, ib;
        void *pa = ((void *(*)(void))sym_or_die(ha, "tls_module_libssl_address"))();
        void *pb = ((void *(*)(void))sym_or_die(hb, "tls_module_libssl_address"))();
        if (!dladdr(pa, &ia) || !dladdr(pb, &ib))
            return 1;
        printf("two: %s\n", ia.dli_fbase != ib.dli_fbase ? "two libssl objects" : "one libssl object");
        ((run_fn)sym_or_die(ha, "tls_module_run"))("A again", cert, key, NULL);
    } else if (strcmp(mode, "direct") == 0) {
        Api a;
        api_load(&a, open_or_die("libssl.so.3", RTLD_NOW | RTLD_LOCAL));
        tls_show_stats = 0;
        tls_scenarios(mode, &a, cert, key);
    } else if (strncmp(mode, "tls12-mode=", 11) == 0) {
        run_module(dir, "tls_module.so", RTLD_NOW | RTLD_GLOBAL, mode, cert, key, mode);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    printf("done\n");
    return 0;
}
