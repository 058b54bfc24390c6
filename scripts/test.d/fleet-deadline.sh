#!/usr/bin/env bash
# One deadline per Redis operation, measured through a real server: `openssl s_server
# -no_ticket` under the preload in fleet mode over rediss://, with SESSCACHE_REDIS_TIMEOUT_MS
# at 50 and at 300. A Python client times whole TLS handshakes (connect to handshake done) in
# one process; each offers a session that the server does not have, so every handshake asks
# Redis, and handshakes are spaced beyond the skip window so that each one pays a wait. Redis
# is up, then stalled (SIGSTOP: the kernel still accepts connections), dead (killed: refused),
# then replaced by a listener that accepts connections and never reads or answers. The added
# time of the slowest handshake over the median with Redis up must stay under the bound; for
# the stalled and silent Redis it must also show the wait (at least half the bound, and one
# timeout counted per handshake), so that a test that waits twice, or not at all, fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
REL=target/release
CT=target/ct/fleet-deadline
PRE=$PWD/$REL/libsesscache_preload.so
mkdir -p "$CT"
command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)"; exit 1; }
[ -f "$PRE" ] || { echo "missing $PRE (run make)"; exit 1; }
D=$(mktemp -d "$PWD/$CT/run.XXXXXX")
PIDS=()
RPID=
cleanup() {
  local p
  for p in "${PIDS[@]}" $RPID; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test-ca -days 1 \
  -keyout "$D/ca.key" -out "$D/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=redis -keyout "$D/redis.key" \
  -out "$D/redis.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$D/ext"
openssl x509 -req -in "$D/redis.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial -days 1 \
  -extfile "$D/ext" -out "$D/redis.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
  -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
openssl rand -hex 32 >"$D/keys"

RPORT=$(free_port)
start_redis() {
  redis-server --bind 127.0.0.1 --port 0 --tls-port "$RPORT" --tls-cert-file "$D/redis.pem" \
    --tls-key-file "$D/redis.key" --tls-ca-cert-file "$D/ca.pem" --tls-auth-clients no --save '' \
    --appendonly no --dir "$D" >>"$D/redis.log" 2>&1 &
  RPID=$!
  for _ in $(seq 100); do
    timeout 5 redis-cli --tls --cacert "$D/ca.pem" -h 127.0.0.1 -p "$RPORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "redis-server did not come up"; cat "$D/redis.log"; exit 1
}
stop_redis() { kill -CONT "$RPID" 2>/dev/null || true; kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=; }

# The client: mints a session on the plain server O, then times N handshakes with server S
# offering it, GAP ms apart; prints one duration in ms per line (and fails if S resumed it).
cat >"$D/hs.py" <<'PY'
import socket, ssl, sys, time
port_o, port_s, n, gap = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]) / 1000
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
def handshake(port, session=None):
    t = time.perf_counter()
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), session=session)
    dt = (time.perf_counter() - t) * 1000
    sess, reused = s.session, s.session_reused
    s.close()
    return dt, sess, reused
_, session, _ = handshake(port_o)
for i in range(n):
    time.sleep(gap)
    dt, _, reused = handshake(port_s, session)
    if reused:
        sys.exit("S resumed a session it should not have")
    print(f"{dt:.2f}")
PY

# A listener on Redis's port that accepts connections and never reads nor answers.
cat >"$D/silent.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
s.settimeout(0.5)
held, end = [], time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
PY

PORT_O=$(free_port)
timeout 600 openssl s_server -accept "127.0.0.1:$PORT_O" -cert "$D/cert.pem" -key "$D/key.pem" -no_ticket -www \
  </dev/null >"$D/O.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do grep -q '^ACCEPT' "$D/O.out" 2>/dev/null && break; sleep 0.05; done

N=5
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
max() { sort -n "$1" | tail -n1; }
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
table=()
for bound in 50 300; do
  echo "== SESSCACHE_REDIS_TIMEOUT_MS=$bound"
  start_redis
  skip=$(( bound * 2 > 200 ? bound * 2 : 200 ))
  gap=$(( skip + 100 ))
  PORT_S=$(free_port)
  env LD_PRELOAD="$PRE" SESSCACHE_STATS="$D/S$bound.stats" SESSCACHE_REDIS="rediss://127.0.0.1:$RPORT/0" \
    SESSCACHE_REDIS_CA="$D/ca.pem" SESSCACHE_REDIS_SEAL_KEYS="$D/keys" SESSCACHE_REDIS_TIMEOUT_MS=$bound \
    timeout 300 openssl s_server -accept "127.0.0.1:$PORT_S" -cert "$D/cert.pem" -key "$D/key.pem" -no_ticket \
    -www -naccept $((4 * N)) </dev/null >"$D/S$bound.out" 2>"$D/S$bound.err" &
  SPID=$!
  PIDS+=($SPID)
  for _ in $(seq 200); do grep -q '^ACCEPT' "$D/S$bound.out" 2>/dev/null && break; sleep 0.05; done
  run() { python3 "$D/hs.py" "$PORT_O" "$PORT_S" "$N" "$gap" >"$D/$1.$bound"; echo "$1: $(tr '\n' ' ' <"$D/$1.$bound")ms"; }
  run up
  kill -STOP "$RPID"; run stalled; kill -CONT "$RPID"
  stop_redis; run dead
  timeout 60 python3 "$D/silent.py" "$RPORT" 60 &
  LPID=$!
  PIDS+=($LPID)
  sleep 0.3
  run silent
  kill "$LPID"; wait "$LPID" 2>/dev/null || true
  wait "$SPID" || true
  echo "stats: $(grep '^redis ' "$D/S$bound.stats")"
  up=$(median "$D/up.$bound")
  row="| $bound ms | $up ms |"
  for phase in stalled dead silent; do
    a=$(added "$(max "$D/$phase.$bound")" "$up")
    row="$row +$a ms |"
    check 'lt "$a" "$bound"' "$bound ms, Redis $phase: the slowest handshake added $a ms over the median with Redis up ($up ms)"
    if [ "$phase" != dead ]; then
      check 'lt "$((bound / 2))" "$a"' "$bound ms, Redis $phase: the wait shows (over half the bound)"
    fi
  done
  timeouts=$(grep '^redis ' "$D/S$bound.stats" | tr ' ' '\n' | sed -n 's/^timeouts=//p')
  check '[ "$timeouts" -ge $((2 * N)) ]' "$bound ms: one timeout per handshake with Redis stalled or silent ($timeouts)"
  table+=("$row")
done
echo
echo "| bound | handshake, Redis up (median) | Redis stalled (slowest, added) | Redis dead | Redis never answers |"
echo "|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
exit $fail
