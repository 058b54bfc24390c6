/* A program linked with libssl that opens deepbind_lib.so with RTLD_DEEPBIND and lets it set
 * the cache mode and new-session callback of its server and client contexts, past the
 * preload. Then TLS 1.2 with session ids: the second connection must resume (the preload must
 * have kept storing sessions), the callback must see every new session, and the program must
 * read back the modes the library set. The transcript must be the same with and without
 * libsesscache_preload.so.  Usage: deepbind_caller CERT KEY DIR */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "tls_api.h"

static int new_calls;

static int count_new(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    (void)sess;
    new_calls++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s CERT KEY DIR\n", argv[0]);
        return 2;
    }
    Api api, *a = &api;
    API_LINKED(a);
    char path[4096], st[256];
    snprintf(path, sizeof path, "%s/deepbind_lib.so", argv[3]);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    void (*configure)(SSL_CTX *, int (*)(SSL *, SSL_SESSION *), long) = h ? dlsym(h, "bypass_configure") : NULL;
    if (configure == NULL) {
        printf("FAIL %s: %s\n", path, dlerror());
        return 1;
    }
    SSL_CTX *s = tls_server_ctx(a, argv[1], argv[2], TLS1_2_VERSION, -1), *c = tls_client_ctx(a, TLS1_2_VERSION);
    SSL_SESSION *sess = NULL;
    SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    configure(s, count_new, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR);
    configure(c, count_new, SSL_SESS_CACHE_CLIENT);
    int first = tls_connect(a, s, a, c, NULL, NULL, &sess, NULL);
    int second = tls_connect(a, s, a, c, sess, NULL, NULL, NULL);
    tls_stats(a, s, st, sizeof st);
    printf("deepbind: first=%s second=%s new_cb_calls=%d client_mode=0x%lx client_number=%ld server: %s\n",
           tls_word(first), tls_word(second), new_calls, SSL_CTX_get_session_cache_mode(c), SSL_CTX_sess_number(c), st);
    printf("deepbind: the new-session callback as the program reads it is %s\n",
           SSL_CTX_sess_get_new_cb(s) == count_new ? "the library's" : "another");
    SSL_SESSION_free(sess);
    SSL_CTX_free(c);
    SSL_CTX_free(s);
    return 0;
}
