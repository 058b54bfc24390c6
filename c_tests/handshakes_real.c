/* Real-TLS build of the handshake scenarios: every handshake is a real
 * in-memory TLS 1.2 handshake with the system OpenSSL 3.0. */
#define REAL_TLS 1
#include "handshakes.c"
