#!/usr/bin/env bash
# The preload under a real `openssl s_server` (throw-away certificate, -no_ticket), with a real
# `openssl s_client` against it on 127.0.0.1: TLS 1.2 reconnects and TLS 1.3 stateful
# resumption are "Reused"; the server's own statistics (read through SSL_CTX_ctrl) equal those
# of the same run without the preload, and the SESSCACHE_STATS file shows the same hits.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/preload
mkdir -p "$CT"
D=$(mktemp -d "$CT/openssl.XXXXXX")
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
need_preload

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
  -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null

# start_server OUT NACCEPT PRELOAD ARGS...: s_server on a free high port; sets PORT and SPID.
# Its stdin is a FIFO held open on fd 3 (s_server quits when stdin ends).
start_server() {
  local out=$1 naccept=$2 preload=$3 try; shift 3
  for try in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    rm -f "$D/fifo"; mkfifo "$D/fifo"
    if [ "$preload" = 1 ]; then
      env LD_PRELOAD="$PRE" timeout 60 openssl s_server -accept "127.0.0.1:$PORT" -cert "$D/cert.pem" \
        -key "$D/key.pem" -no_ticket -naccept "$naccept" "$@" <"$D/fifo" >"$out" 2>"$out.err" &
    else
      timeout 60 openssl s_server -accept "127.0.0.1:$PORT" -cert "$D/cert.pem" -key "$D/key.pem" \
        -no_ticket -naccept "$naccept" "$@" <"$D/fifo" >"$out" 2>"$out.err" &
    fi
    SPID=$!
    exec 3>"$D/fifo"
    for _ in $(seq 200); do
      grep -q '^ACCEPT' "$out" 2>/dev/null && return 0
      kill -0 "$SPID" 2>/dev/null || break
      sleep 0.05
    done
    exec 3>&-; kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true
  done
  echo "s_server did not start"; cat "$out.err"; return 1
}
stop_server() { exec 3>&-; wait "$SPID"; SPID=; }
# The statistics block s_server prints when it ends (all through SSL_CTX_ctrl).
server_stats() { sed -n '/items in the session cache/,/cache full overflows/p' "$1"; }
client() { timeout 30 openssl s_client -connect "127.0.0.1:$PORT" "$@"; }
# The SESSCACHE_STATS directory's files as one key=value line per context.
stats_lines() { python3 scripts/servers/stats.py lines "$1"; }

# TLS 1.2: -reconnect makes 1 full handshake and 5 resumptions.
tls12() { # TAG PRELOAD [s_server args]
  local tag=$1 pre=$2; shift 2
  start_server "$D/$tag.srv" 6 "$pre" "$@"
  client -tls1_2 -reconnect </dev/null >"$D/$tag.cli" 2>&1 || true
  stop_server
  server_stats "$D/$tag.srv" >"$D/$tag.stats"
  echo "$tag: $(grep -c '^Reused, TLSv1.2' "$D/$tag.cli") Reused; $(grep 'session cache hits' "$D/$tag.stats" | xargs)"
}

# TLS 1.3 stateful resumption: the first connection stays open until its ticket is saved.
tls13() { # TAG PRELOAD
  local tag=$1 pre=$2
  rm -f "$D/$tag.sess"
  start_server "$D/$tag.srv" 2 "$pre"
  ( for _ in $(seq 200); do [ -s "$D/$tag.sess" ] && break; sleep 0.05; done ) |
    client -tls1_3 -sess_out "$D/$tag.sess" >"$D/$tag.cli1" 2>&1 || true
  client -tls1_3 -sess_in "$D/$tag.sess" </dev/null >"$D/$tag.cli2" 2>&1 || true
  stop_server
  server_stats "$D/$tag.srv" >"$D/$tag.stats"
  echo "$tag: first $(grep -cE '^New, TLSv1.3' "$D/$tag.cli1") New; second $(grep -c '^Reused, TLSv1.3' "$D/$tag.cli2") Reused; $(grep 'session cache hits' "$D/$tag.stats" | xargs)"
}

fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }

tls12 base12 0
mkdir "$D/stats12" "$D/stats13"
SESSCACHE_STATS=$PWD/$D/stats12 SESSCACHE_LOG=1 tls12 pre12 1
check '[ "$(grep -c "^Reused, TLSv1.2" "$D/base12.cli")" = 5 ]' "baseline: 5 TLS 1.2 reconnects reused"
check '[ "$(grep -c "^Reused, TLSv1.2" "$D/pre12.cli")" = 5 ]' "preload: 5 TLS 1.2 reconnects reused"
check 'diff -u "$D/base12.stats" "$D/pre12.stats"' "TLS 1.2: s_server statistics equal the baseline"
check 'grep -q "^ *5 session cache hits" "$D/pre12.stats" && grep -q "^ *1 items in the session cache" "$D/pre12.stats"' \
  "TLS 1.2: 5 hits, 1 cached session"
check 'stats_lines "$D/stats12" | grep -qE "^ctx=[0-9]+ .* accept=6 accept_good=6 .* hits=5 cb_hits=0 misses=0"' "TLS 1.2: stats file shows the hits"
check '[ "$(grep -c " hit version=0x0303" "$D/pre12.srv.err")" = 5 ]' "TLS 1.2: SESSCACHE_LOG shows 5 hits"
echo "stats file: $(stats_lines "$D/stats12" | grep -E 'accept=6')"

tls13 base13 0
SESSCACHE_STATS=$PWD/$D/stats13 tls13 pre13 1
check 'grep -q "^Reused, TLSv1.3" "$D/base13.cli2"' "baseline: TLS 1.3 -sess_in reused"
check 'grep -q "^Reused, TLSv1.3" "$D/pre13.cli2"' "preload: TLS 1.3 -sess_in reused"
check 'diff -u "$D/base13.stats" "$D/pre13.stats"' "TLS 1.3: s_server statistics equal the baseline"
check 'grep -q "^ *1 session cache hits" "$D/pre13.stats"' "TLS 1.3: 1 hit"
check 'stats_lines "$D/stats13" | grep -qE "^ctx=[0-9]+ .* accept=2 accept_good=2 .* hits=1 "' "TLS 1.3: stats file shows the hit"

# s_server's own external cache (-ext_cache: get/new/remove callbacks, NO_INTERNAL), and a bad
# variable: one line on stderr, then the defaults.
tls12 baseext 0 -ext_cache
SESSCACHE_SIZE=lots tls12 preext 1 -ext_cache
check '[ "$(grep -c "^Reused, TLSv1.2" "$D/preext.cli")" = 5 ]' "-ext_cache: 5 reconnects reused"
check 'diff -u "$D/baseext.stats" "$D/preext.stats"' "-ext_cache: statistics equal the baseline"
check '[ "$(grep -c "SESSCACHE_SIZE" "$D/preext.srv.err")" = 1 ]' "bad SESSCACHE_SIZE: one stderr line"
exit $fail
