/* A library that a program opens with RTLD_DEEPBIND, as PHP opens its extensions: its calls
 * bind straight to libssl, past the preload. It sets a context's cache mode and new-session
 * callback, which the preload must notice and adopt as the program's own. */
#include <openssl/ssl.h>

void bypass_configure(SSL_CTX *ctx, int (*cb)(SSL *, SSL_SESSION *), long mode)
{
    SSL_CTX_set_session_cache_mode(ctx, mode);
    SSL_CTX_sess_set_new_cb(ctx, cb);
}
