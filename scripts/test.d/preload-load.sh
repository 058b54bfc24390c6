#!/usr/bin/env bash
# Load: 4 concurrent clients make 2000 TLS handshakes (TLS 1.2 and 1.3, resuming) against one
# server over 127.0.0.1, with and without the preload: no failure, no SSL_SESSION left alive
# after SSL_CTX_free (counted through ex_data), the same reuse and counters either way.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/preload
mkdir -p "$CT"
need_preload
# shellcheck disable=SC2086
$CC $CFLAGS -o "$CT/load" c_tests/preload/load.c -lssl -lcrypto
timeout 100 "$CT/load" 2000 >"$CT/load.libssl.txt"
timeout 100 env LD_PRELOAD="$PRE" "$CT/load" 2000 >"$CT/load.preload.txt"
cat "$CT/load.preload.txt"
diff -u "$CT/load.libssl.txt" "$CT/load.preload.txt"
grep -q '^live sessions after free: 0$' "$CT/load.preload.txt"
