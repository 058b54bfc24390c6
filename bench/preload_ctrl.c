/* Calls SSL_CTX_ctrl N times with one command, for counting what the preload adds per call:
 *   cc -O2 -o preload_ctrl bench/preload_ctrl.c -lssl -lcrypto
 *   LD_PRELOAD=target/release/libsesscache_preload.so valgrind --tool=callgrind \
 *       --callgrind-out-file=/dev/null ./preload_ctrl 43 100000     (then 200000)
 * The difference of the two totals, divided by 100000, is the cost of one call.
 * Usage: preload_ctrl CMD N   (43: SSL_CTRL_GET_SESS_CACHE_SIZE, 33: SSL_CTRL_MODE) */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    SSL_CTX *c = SSL_CTX_new(TLS_method());
    int cmd = argc > 1 ? atoi(argv[1]) : SSL_CTRL_GET_SESS_CACHE_SIZE;
    long n = argc > 2 ? atol(argv[2]) : 100000, sum = 0;
    if (c == NULL)
        return 1;
    for (long i = 0; i < n; i++)
        sum += SSL_CTX_ctrl(c, cmd, 0, NULL);
    printf("%ld\n", sum);
    SSL_CTX_free(c);
    return 0;
}
