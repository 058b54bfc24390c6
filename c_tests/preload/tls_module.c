/* A module linked with libssl, which a program opens with dlopen as CPython opens _ssl, Perl
 * Net::SSLeay, Lua LuaSec and Tcl tcl-tls: its calls to libssl go through its own PLT. It runs
 * tls_api.h's scenarios with the functions it is linked with. */
#include "tls_api.h"

/* Runs every scenario, or with only = "tls12-mode=HEX" the TLS 1.2 one with that server mode. */
void tls_module_run(const char *tag, const char *cert, const char *key, const char *only)
{
    Api api, *a = &api;
    API_LINKED(a);
    if (only != NULL && strncmp(only, "tls12-mode=", 11) == 0)
        tls_scenario12(tag, a, a, cert, key, strtol(only + 11, NULL, 16));
    else
        tls_scenarios(tag, a, cert, key);
}

/* A context of this module's libssl, its timeout, and its end. */
SSL_CTX *tls_module_ctx(void) { return SSL_CTX_new(TLS_method()); }
long tls_module_timeout(const SSL_CTX *c) { return SSL_CTX_get_timeout(c); }
void tls_module_free(SSL_CTX *c) { SSL_CTX_free(c); }

/* An address inside the libssl this module binds to (a function the preload never defines). */
void *tls_module_libssl_address(void) { return (void *)&SSL_get_ex_data; }
