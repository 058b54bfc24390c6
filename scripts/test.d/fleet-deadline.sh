#!/usr/bin/env bash
# One deadline per Redis operation, measured through real servers: `openssl s_server
# -no_ticket` and nginx (`ssl_session_tickets off`), both under the preload in fleet mode over
# rediss:// with seal keys, with SESSCACHE_REDIS_TIMEOUT_MS at 50 and at 300. A Python client
# times whole TLS handshakes (connect to handshake done) in one process; each offers a session
# that the servers do not have, so every handshake asks Redis, and handshakes are spaced beyond
# the skip window so that each one pays a wait. Redis
# is up, then stalled (SIGSTOP: the kernel still accepts connections), dead (killed: refused),
# then replaced by a listener that accepts connections and never reads or answers. The added
# time of each handshake over the median with Redis up must stay under the bound, but for one
# of the 7 of a phase (the machine is shared: a scheduler stall of tens of ms, which shows with
# Redis up too, is not the library's), and a phase over that is measured once more before it
# fails; for the stalled and silent Redis every handshake must show the wait (at least half
# the bound). A library that waits twice, or not at all, fails every time.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# shellcheck source=scripts/tls-certs.sh
. scripts/tls-certs.sh
CT=target/ct/fleet-deadline
mkdir -p "$CT"
need_redis
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx)"; exit 1; }
need_preload
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
test_ca "$D" ca
test_cert "$D" redis ca 'subjectAltName=IP:127.0.0.1'
test_self_signed "$D" cert
mv "$D/cert.key" "$D/key.pem"
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

# The client: mints a session on the plain server O, then N times, GAP ms apart, times one
# handshake with each server PORT offering it; prints "PORT ms" per handshake (and fails if a
# server resumed it).
cat >"$D/hs.py" <<'PY'
import socket, ssl, sys, time
port_o, n, gap, ports = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000, sys.argv[4:]
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
    for port in ports:
        dt, _, reused = handshake(int(port), session)
        if reused:
            sys.exit(f"the server on {port} resumed a session it should not have")
        print(f"{port} {dt:.2f}")
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

# nginx under the preload, one worker; its master reads the settings and key files.
nginx_conf() { # PORT BOUND
  mkdir -p "$D/ng$2/tmp"
  cat >"$D/ng$2/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
user root;
pid $D/ng$2/nginx.pid;
error_log $D/ng$2/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $D/ng$2/tmp; proxy_temp_path $D/ng$2/tmp; fastcgi_temp_path $D/ng$2/tmp;
  uwsgi_temp_path $D/ng$2/tmp; scgi_temp_path $D/ng$2/tmp;
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_certificate $D/cert.pem;
    ssl_certificate_key $D/key.pem;
    ssl_protocols TLSv1.2;
    ssl_session_tickets off;
    ssl_session_cache builtin:1000;
    location / { return 200 "ok\\n"; }
  }
}
NGINX
}

N=7
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
max() { sort -n "$1" | tail -n1; }
second() { sort -n "$1" | tail -n2 | head -n1; }
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
  env LD_PRELOAD="$PRE" SESSCACHE_REDIS="rediss://127.0.0.1:$RPORT/0" \
    SESSCACHE_REDIS_CA="$D/ca.pem" SESSCACHE_REDIS_SEAL_KEYS="$D/keys" SESSCACHE_REDIS_TIMEOUT_MS=$bound \
    timeout 300 openssl s_server -accept "127.0.0.1:$PORT_S" -cert "$D/cert.pem" -key "$D/key.pem" -no_ticket \
    -www </dev/null >"$D/S$bound.out" 2>"$D/S$bound.err" &
  SPID=$!
  PIDS+=($SPID)
  PORT_N=$(free_port)
  nginx_conf "$PORT_N" "$bound"
  env LD_PRELOAD="$PRE" SESSCACHE_REDIS="rediss://127.0.0.1:$RPORT/0" SESSCACHE_REDIS_CA="$D/ca.pem" \
    SESSCACHE_REDIS_SEAL_KEYS="$D/keys" SESSCACHE_REDIS_TIMEOUT_MS=$bound \
    timeout 300 nginx -p "$D/ng$bound" -c "$D/ng$bound/nginx.conf" -e "$D/ng$bound/error.log" \
    >"$D/ng$bound/out" 2>&1 &
  NPID=$!
  PIDS+=($NPID)
  for _ in $(seq 200); do grep -q '^ACCEPT' "$D/S$bound.out" 2>/dev/null && break; sleep 0.05; done
  for _ in $(seq 200); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT_N), 1)" 2>/dev/null && break; sleep 0.05; done
  run() {
    python3 "$D/hs.py" "$PORT_O" "$N" "$gap" "$PORT_S" "$PORT_N" >"$D/$1.all"
    sed -n "s/^$PORT_S //p" "$D/$1.all" >"$D/$1.s_server"
    sed -n "s/^$PORT_N //p" "$D/$1.all" >"$D/$1.nginx"
    echo "$1: s_server $(tr '\n' ' ' <"$D/$1.s_server")ms; nginx $(tr '\n' ' ' <"$D/$1.nginx")ms"
  }
  # phase NAME: runs it; when a server's slowest handshake reaches the bound, runs it once more
  # (this machine is shared: a one-off stall of the scheduler is not the library's; a wait
  # that is too long every time fails twice). Records the added times of the last run.
  phase() {
    local srv a over=0
    run "$1"
    for srv in s_server nginx; do
      a=$(added "$(second "$D/$1.$srv")" "$(median "$D/up.$srv")")
      lt "$a" "$bound" || over=1
    done
    if [ $over = 1 ]; then echo "(over the bound once: measuring $1 again)"; run "$1"; fi
  }
  run up
  kill -STOP "$RPID"; phase stalled; kill -CONT "$RPID"
  stop_redis; phase dead
  timeout 60 python3 "$D/silent.py" "$RPORT" 60 &
  LPID=$!
  PIDS+=($LPID)
  sleep 0.3
  phase silent
  kill "$LPID"; wait "$LPID" 2>/dev/null || true
  kill "$SPID" "$NPID"; wait "$SPID" "$NPID" 2>/dev/null || true
  for srv in s_server nginx; do
    up=$(median "$D/up.$srv")
    row="| $srv | $bound ms | $up ms |"
    for ph in stalled dead silent; do
      a=$(added "$(second "$D/$ph.$srv")" "$up")
      md=$(added "$(median "$D/$ph.$srv")" "$up")
      mx=$(added "$(max "$D/$ph.$srv")" "$up")
      row="$row +$md / +$a / +$mx ms |"
      check 'lt "$a" "$bound"' "$srv, $bound ms, Redis $ph: 6 of 7 handshakes added less than the bound (median +$md, 6th +$a, slowest +$mx ms over $up ms)"
      if [ "$ph" != dead ]; then
        m=$(added "$(sort -n "$D/$ph.$srv" | head -n1)" "$up")
        check 'lt "$((bound / 2))" "$m"' "$srv, $bound ms, Redis $ph: every handshake paid the wait (the fastest added $m ms)"
      fi
    done
    table+=("$row")
  done
done
echo
echo "Added time per handshake over the median with Redis up: median / 6th of 7 / slowest."
echo "| server | bound | handshake, Redis up (median) | Redis stalled | Redis dead | Redis never answers |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
exit $fail
