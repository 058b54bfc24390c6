#!/usr/bin/env bash
# Fleet mode of the preload (SESSCACHE_REDIS): two unmodified `openssl s_server` processes on
# different loopback ports, both under libsesscache_preload.so with the same Redis, resume each
# other's TLS 1.2 sessions (-no_ticket): `s_client -sess_out` against one, `-sess_in` against
# the other reports "Reused". Without SESSCACHE_REDIS the same steps do not resume (baseline).
# Then: per-connection sid_ctx (-context) namespacing, the operator's NO_INTERNAL_STORE (Redis
# the only store), a program's own SERVER|NO_INTERNAL_STORE without callbacks (nothing stored),
# a corrupt value, a stalled and a dead Redis (misses within the bound, the handshake goes on),
# and a bad URL (one stderr line, no Redis). redis-server missing is a failure, not a skip.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/fleet
mkdir -p "$CT"
need_redis
need_preload
D=$(mktemp -d "$PWD/$CT/run.XXXXXX")
PIDS=()
RPID=
cleanup() {
  local p
  for p in "${PIDS[@]}" $RPID ${REDIS_PID:-}; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT

RPORT=$(free_port)
URL="redis://127.0.0.1:$RPORT/0"
cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$RPORT" "$@"; }
start_redis() {
  timeout 300 redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --dir "$D" \
    >>"$D/redis.log" 2>&1 &
  RPID=$!
  for _ in $(seq 100); do cli ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  echo "redis-server did not come up on port $RPORT"; cat "$D/redis.log"; exit 1
}
stop_redis() { kill -CONT "$REDIS_PID" 2>/dev/null || true; kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=; }
start_redis
# The server itself (RPID is its `timeout` wrapper), for SIGSTOP.
REDIS_PID=$(cli info server | tr -d '\r' | sed -n 's/^process_id://p')

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
  -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null

# server NAME NACCEPT [VAR=value ...] -- [s_server args]: starts s_server under the preload on a
# free loopback port (-www: it never reads stdin), sets PORT_<NAME>.
server() {
  local name=$1 n=$2 envs=() port; shift 2
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  port=$(free_port)
  mkdir -p "$D/$name.stats"
  env LD_PRELOAD="$PRE" SESSCACHE_STATS="$D/$name.stats" "${envs[@]}" timeout 120 openssl s_server \
    -accept "127.0.0.1:$port" -cert "$D/cert.pem" -key "$D/key.pem" -no_ticket -www -naccept "$n" "$@" \
    </dev/null >"$D/$name.out" 2>"$D/$name.err" &
  PIDS+=($!)
  eval "PORT_$name=$port PID_$name=$!"
  for _ in $(seq 200); do
    grep -q '^ACCEPT' "$D/$name.out" 2>/dev/null && return 0
    kill -0 "$!" 2>/dev/null || break
    sleep 0.05
  done
  echo "s_server $name did not start"; cat "$D/$name.err"; exit 1
}
# done_server NAME: waits for it to exit (-naccept reached); its stats file is then final.
done_server() { local p; p=$(eval echo "\$PID_$1"); wait "$p" || true; }
# client NAME [s_client args]: one TLS 1.2 connection; prints its "New"/"Reused" line.
client() {
  local port; port=$(eval echo "\$PORT_$1"); shift
  timeout 30 openssl s_client -connect "127.0.0.1:$port" -tls1_2 "$@" </dev/null 2>&1 | grep -E '^(New|Reused), ' | head -n1 || true
}
# stats_lines NAME: the server's SESSCACHE_STATS directory as one key=value line per context;
# stats_has NAME REGEX: one of them matches (read whole first: no pipe for grep -q to close).
stats_lines() { python3 scripts/servers/stats.py lines "$D/$1.stats"; }
stats_has() { grep -qE "$2" <<<"$(stats_lines "$1")"; }
redis_line() { stats_lines "$1" | grep '^redis '; }
# The Redis key of the session in a PEM file written by s_client -sess_out, under s_server's
# default sid_ctx (the int 1).
key_of() { echo "sesscache:01000000:$(openssl sess_id -in "$1" -noout -text | sed -n 's/^ *Session-ID: //p' | tr A-F a-f)"; }
stat_of() { redis_line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
reused() { [[ "$1" == Reused,\ TLSv1.2* ]]; }

echo "== baseline: the preload without SESSCACHE_REDIS"
server A0 1 -- ; server B0 1 --
a=$(client A0 -sess_out "$D/s0.pem"); b=$(client B0 -sess_in "$D/s0.pem")
echo "A0: $a"; echo "B0: $b"
check '[[ "$a" == New,* ]] && [[ "$b" == New,* ]]' "baseline: a session of server A is not resumed by server B"

echo "== fleet: both servers with SESSCACHE_REDIS=redis://127.0.0.1:<port>/0"
server A 2 SESSCACHE_REDIS="$URL" -- ; server B 1 SESSCACHE_REDIS="$URL" --
a=$(client A -sess_out "$D/s1.pem"); b=$(client B -sess_in "$D/s1.pem"); a2=$(client A -sess_in "$D/s1.pem")
echo "A: $a"; echo "B: $b"; echo "A again: $a2"
keys=$(cli --scan --pattern 'sesscache:*')
echo "redis keys: $keys"
done_server A; done_server B
echo "A stats: $(stats_lines A | grep '^ctx=' | head -n1)"
echo "A stats: $(redis_line A)"
echo "B stats: $(stats_lines B | grep '^ctx=' | head -n1)"
echo "B stats: $(redis_line B)"
check '[[ "$a" == New,* ]] && reused "$b"' "fleet: server B resumes server A's session (Reused)"
check 'reused "$a2"' "fleet: server A resumes its own session from its internal cache"
check '[ "$(echo "$keys" | grep -c "^sesscache:01000000:")" = 1 ]' "one key, under s_server's sid_ctx"
check '[ "$(stat_of A stores)" = 1 ] && [ "$(stat_of A hits)" = 0 ]' "A stored 1 session in Redis"
check '[ "$(stat_of B hits)" = 1 ] && [ "$(stat_of B corrupt)" = 0 ] && [ "$(stat_of B errors)" = 0 ]' "B: 1 Redis hit"
check 'stats_has B "^ctx=[0-9]+ .* accept_good=1 .* hits=1 cb_hits=1 misses=1 .*"' \
  "B: the resumption is a cb_hit after an internal miss"

echo "== per-connection sid_ctx (s_server -context): another service does not see the session"
server C 1 SESSCACHE_REDIS="$URL" -- -context svc-one
server E 1 SESSCACHE_REDIS="$URL" -- -context svc-two
server F 1 SESSCACHE_REDIS="$URL" -- -context svc-one
c=$(client C -sess_out "$D/s2.pem"); e=$(client E -sess_in "$D/s2.pem"); f=$(client F -sess_in "$D/s2.pem")
echo "C (svc-one): $c"; echo "E (svc-two): $e"; echo "F (svc-one): $f"
check '[[ "$e" == New,* ]] && reused "$f"' "keys are per sid_ctx: svc-two misses, svc-one resumes"
check '[ "$(cli --scan --pattern "sesscache:$(printf svc-one | od -An -tx1 | tr -d " \n"):*" | wc -l)" = 1 ]' \
  "the key carries the connection's sid_ctx"

echo "== the operator's SESSCACHE_MODE=server|no_internal_store: Redis is the only store"
M=SESSCACHE_MODE='server|no_internal_store'
server G 2 SESSCACHE_REDIS="$URL" "$M" -- ; server H 1 SESSCACHE_REDIS="$URL" "$M" --
g=$(client G -sess_out "$D/s3.pem"); h=$(client H -sess_in "$D/s3.pem"); g2=$(client G -sess_in "$D/s3.pem")
echo "G: $g"; echo "H: $h"; echo "G again: $g2"
done_server G; done_server H
echo "G stats: $(stats_lines G | grep '^ctx=' | head -n1)"
check 'reused "$h" && reused "$g2"' "NO_INTERNAL_STORE: both servers resume through Redis"
check 'stats_has G "^ctx=[0-9]+ live=0 number=0 .* hits=1 cb_hits=1 "' "G: nothing cached internally, 1 cb_hit"

echo "== a program whose mode is SERVER|NO_INTERNAL_STORE, without callbacks, stores nothing (nginx: ssl_session_cache none)"
# shellcheck disable=SC2086
$CC $CFLAGS -shared -fPIC -o "$D/tls_module.so" c_tests/preload/tls_module.c -lssl -lcrypto
# shellcheck disable=SC2086
$CC $CFLAGS -o "$D/dl_tls" c_tests/preload/dl_tls.c
# Its server has no session-id context: its keys would be sesscache::<id>.
own_keys() { cli --scan --pattern 'sesscache::*' | wc -l; }
tls12() { "$D/dl_tls" "$D/cert.pem" "$D/key.pem" "tls12-mode=$1" "$D"; }
fleet_tls12() { env LD_PRELOAD="$PRE" SESSCACHE_REDIS="$URL" timeout 60 "$D/dl_tls" "$D/cert.pem" "$D/key.pem" "tls12-mode=$1" "$D"; }
k0=$(own_keys); none=$(fleet_tls12 0x202 || true); k1=$(own_keys); server=$(fleet_tls12 0x2 || true); k2=$(own_keys)
echo "none: $none"; echo "server: $server"
check '[ "$k1" = "$k0" ] && [ "$none" = "$(tls12 0x202)" ]' \
  "SERVER|NO_INTERNAL_STORE, no callbacks: no key in Redis, and the same transcript (no resumption) as without the preload"
check '[ "$k2" = $((k1 + 1)) ] && [ "$server" = "$(tls12 0x2)" ]' "the same program with mode SERVER: one key in Redis"

echo "== the program's own external cache (s_server -ext_cache) keeps working, Redis behind it"
server X 2 SESSCACHE_REDIS="$URL" -- -ext_cache; server Y 1 SESSCACHE_REDIS="$URL" -- -ext_cache
x=$(client X -sess_out "$D/s5.pem"); y=$(client Y -sess_in "$D/s5.pem"); x2=$(client X -sess_in "$D/s5.pem")
done_server X; done_server Y
echo "X: $x"; echo "Y: $y"; echo "X again: $x2"
echo "X stats: $(redis_line X)"; echo "Y stats: $(redis_line Y)"
check 'reused "$y" && reused "$x2" && [ "$(stat_of X hits)" = 0 ] && [ "$(stat_of Y hits)" = 1 ]' \
  "-ext_cache: X resumes from its own cache, Y from Redis"

echo "== a corrupt value: a miss, counted"
server I 1 SESSCACHE_REDIS="$URL" --
key=$(key_of "$D/s1.pem")
check '[ "$(cli exists "$key")" = 1 ]' "the session's key is $key"
cli set "$key" "not a session" >/dev/null
i=$(client I -sess_in "$D/s1.pem")
done_server I
echo "I: $i"; echo "I stats: $(redis_line I)"
check '[[ "$i" == New,* ]] && [ "$(stat_of I corrupt)" = 1 ] && [ "$(stat_of I misses)" = 1 ]' \
  "corrupt value: a full handshake, corrupt=1 misses=1"

echo "== examples/redis_sharing.c against this Redis"
# shellcheck disable=SC2086
$CC $CFLAGS -Iinclude -o "$D/redis_sharing" examples/redis_sharing.c -L$REL -lsesscache
check 'SESSCACHE_REDIS="$URL" LD_LIBRARY_PATH=$REL "$D/redis_sharing" >"$D/example.txt"' "examples/redis_sharing.c passes"
cat "$D/example.txt"

echo "== Redis stalled (SIGSTOP), dead, then back: misses within the bound, caching resumes"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
server J 13 SESSCACHE_REDIS="$URL" SESSCACHE_REDIS_TIMEOUT_MS=50 --
t0=$(ms); j1=$(client J -sess_out "$D/s4.pem"); t1=$(ms); j1b=$(client J -sess_in "$D/s4.pem"); t2=$(ms)
kill -STOP "$REDIS_PID"
t3=$(ms); j2=$(client J -sess_in "$D/s1.pem"); t4=$(ms)
stop_redis
t5=$(ms); j3=$(client J -sess_in "$D/s1.pem"); t6=$(ms)
echo "J: new $j1 ($((t1 - t0)) ms); internal hit $j1b ($((t2 - t1)) ms)"
echo "J: Redis stalled: $j2 ($((t4 - t3)) ms); Redis dead: $j3 ($((t6 - t5)) ms)"
# Back (empty: no persistence): the same process stores again once its 200 ms pause is over.
start_redis
n=0
while [ $n -lt 10 ]; do
  n=$((n + 1)); client J >/dev/null
  [ "$(cli dbsize)" -ge 1 ] && break
done
back=$(cli dbsize)
echo "J: Redis restarted: $back key(s) stored after $n new connection(s)"
while [ $n -lt 10 ]; do n=$((n + 1)); client J >/dev/null; done
done_server J
echo "J stats: $(redis_line J)"
check '[[ "$j2" == New,* ]] && [[ "$j3" == New,* ]] && reused "$j1b"' "Redis down: handshakes go on as full ones"
check '[ "$(stat_of J timeouts)" = 1 ] && [ "$(stat_of J misses)" = 2 ] && [ "$(stat_of J hits)" = 0 ]' \
  "a stalled Redis is one timeout (then skipped or refused); both lookups are misses"
check '[ $((t4 - t3)) -lt 5000 ] && [ $((t6 - t5)) -lt 5000 ]' "the handshakes with Redis down finished (bounded)"
check '[ "$back" -ge 1 ] && [ "$(stat_of J stores)" -ge 2 ]' "caching resumes when Redis is back, without a restart"

echo "== a bad URL: one stderr line, the server runs without Redis"
server K 1 SESSCACHE_REDIS="http://127.0.0.1:$RPORT/" --
k=$(client K)
done_server K
cat "$D/K.err"
check '[[ "$k" == New,* ]] && [ "$(grep -c SESSCACHE_REDIS "$D/K.err")" = 1 ] && ! stats_has K "^redis "' \
  "bad SESSCACHE_REDIS: one stderr line, no Redis tier"
exit $fail
