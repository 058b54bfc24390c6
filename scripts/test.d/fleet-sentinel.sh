#!/usr/bin/env bash
# Fleet mode over Redis Sentinel (docs/fleet.md, "Redis Sentinel"), with TLS, AUTH and sealed
# values: a primary, two replicas and three sentinels (`redis-server --sentinel` with generated
# configurations; down-after-milliseconds 1000, failover-timeout 4000), all TLS only with a
# test CA and the password "fleet-pw" (sentinels included), on free loopback ports, without
# persistence. Two `openssl s_server -no_ticket` under the preload with
# SESSCACHE_REDIS=rediss-sentinel://:fleet-pw@<the three sentinels>/mymaster/0 (Redis the only
# store) and scripts/fleet-ha.py as the client: B resumes 12 sessions of A; the primary is
# killed (SIGKILL: refused at once), then the replica that took over is stalled (SIGSTOP: every
# lookup that reaches it waits); each time lookups miss within the bound until the sentinels
# have promoted a replica, then the earlier sessions (replicated) hit again and new sessions are
# shared again, without a restart. The figures (slowest handshake, miss window, when sharing is
# back) are printed.
# Every process is stopped by its PID; redis-server missing is a failure, not a skip.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# shellcheck source=scripts/tls-certs.sh
. scripts/tls-certs.sh
# shellcheck source=scripts/fleet-ha.sh
. scripts/fleet-ha.sh
CT=target/ct/fleet-sentinel
mkdir -p "$CT"
need_redis
need_preload
D=$(mktemp -d "$PWD/$CT/run.XXXXXX")
PIDS=()
cleanup() {
  local p
  if [ -f "$D/stopped.pid" ]; then kill -CONT "$(cat "$D/stopped.pid")" 2>/dev/null || true; fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT
BOUND=200
PW=fleet-pw

test_ca "$D" ca
test_cert "$D" redis ca 'subjectAltName=IP:127.0.0.1'
TLS_CONF="tls-cert-file $D/redis.pem
tls-key-file $D/redis.key
tls-ca-cert-file $D/ca.pem
tls-auth-clients no
tls-replication yes"
cli() { local p=$1; shift; timeout 10 redis-cli --tls --cacert "$D/ca.pem" -h 127.0.0.1 -p "$p" -a "$PW" --no-auth-warning "$@"; }
up() { # PORT NAME: waits for PONG
  for _ in $(seq 100); do cli "$1" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  echo "$2 did not come up on $1"; cat "$D/$2.log"; exit 1
}
# redis NAME PORT [directives]: a data node, TLS only, with a password.
redis() {
  local name=$1 port=$2; shift 2
  mkdir -p "$D/$name"
  { printf 'bind 127.0.0.1\nport 0\ntls-port %s\ndir %s\nsave ""\nappendonly no\nrequirepass %s\nmasterauth %s\n' \
      "$port" "$D/$name" "$PW" "$PW"
    echo "$TLS_CONF"; printf '%s\n' "$@"; } >"$D/$name.conf"
  timeout 600 redis-server "$D/$name.conf" --logfile "$D/$name.log" &
  PIDS+=($!)
  up "$port" "$name"
}
PM=$(free_port); PR=$(free_port); PR2=$(free_port)
redis primary "$PM"
redis replica "$PR" "replicaof 127.0.0.1 $PM"
redis replica2 "$PR2" "replicaof 127.0.0.1 $PM"
for r in "$PR" "$PR2"; do
  for _ in $(seq 200); do cli "$r" info replication | grep -q 'master_link_status:up' && break; sleep 0.05; done
  cli "$r" info replication | grep -q 'master_link_status:up' || { echo "the replica on $r did not sync"; exit 1; }
done
SENTINELS=()
for i in 1 2 3; do
  port=$(free_port)
  mkdir -p "$D/s$i"
  { printf 'bind 127.0.0.1\nport 0\ntls-port %s\ndir %s\nrequirepass %s\n' "$port" "$D/s$i" "$PW"
    echo "$TLS_CONF"
    printf 'sentinel monitor mymaster 127.0.0.1 %s 2\nsentinel auth-pass mymaster %s\n' "$PM" "$PW"
    printf 'sentinel sentinel-pass %s\nsentinel down-after-milliseconds mymaster 1000\n' "$PW"
    printf 'sentinel failover-timeout mymaster 4000\nsentinel parallel-syncs mymaster 1\n'; } >"$D/s$i.conf"
  timeout 600 redis-server "$D/s$i.conf" --sentinel --logfile "$D/s$i.log" &
  PIDS+=($!)
  up "$port" "s$i"
  SENTINELS+=("$port")
done
# The sentinels know each other and the replicas before the test goes on.
for _ in $(seq 200); do
  n=$(cli "${SENTINELS[0]}" sentinel master mymaster | tr -d '\r' | sed -n '/^num-other-sentinels$/{n;p}')
  r=$(cli "${SENTINELS[0]}" sentinel master mymaster | tr -d '\r' | sed -n '/^num-slaves$/{n;p}')
  [ "${n:-0}" = 2 ] && [ "${r:-0}" = 2 ] && break
  sleep 0.1
done
[ "${n:-0}" = 2 ] && [ "${r:-0}" = 2 ] || { echo "the sentinels did not find each other ($n) and the replicas ($r)"; exit 1; }
echo "redis $(redis-server --version | cut -d' ' -f3): a primary, 2 replicas and 3 sentinels, TLS only, with a password"
URL="rediss-sentinel://:$PW@127.0.0.1:${SENTINELS[0]},127.0.0.1:${SENTINELS[1]},127.0.0.1:${SENTINELS[2]}/mymaster/0"

PRIMARY_PID=$(cli "$PM" info server | tr -d '\r' | sed -n 's/^process_id://p')
export D PW PM PRIMARY_PID S1=${SENTINELS[0]}
cat >"$D/ctl.sh" <<'CTL'
#!/usr/bin/env bash
set -euo pipefail
cli() { local p=$1; shift; timeout 10 redis-cli --tls --cacert "$D/ca.pem" -h 127.0.0.1 -p "$p" -a "$PW" --no-auth-warning "$@"; }
primary_port() { cli "$S1" sentinel get-master-addr-by-name mymaster | tail -n1; }
case "$1" in
  # A replica has everything the primary has.
  wait-replicated) [ "$(cli "$(primary_port)" wait 1 5000)" -ge 1 ] ;;
  kill-primary) kill -KILL "$PRIMARY_PID" ;;
  # SIGSTOP to the current primary (its PID kept, so that the script's cleanup resumes it).
  stop-primary)
    pid=$(cli "$(primary_port)" info server | tr -d '\r' | sed -n 's/^process_id://p')
    echo "$pid" >"$D/stopped.pid"
    kill -STOP "$pid" ;;
  primary) cli "$S1" sentinel get-master-addr-by-name mymaster | tr '\n' ' ' ;;
  *) echo "unknown: $1"; exit 1 ;;
esac
CTL

test_self_signed "$D" cert
openssl rand -hex 32 >"$D/keys"
ha_server A "$URL"
ha_server B "$URL"

fail=0
ha_client sentinel || fail=1
echo "primary at first: 127.0.0.1 $PM; replicas: 127.0.0.1 $PR, 127.0.0.1 $PR2"
grep -h -E '\+(odown|failover-end|switch-master)' "$D"/s1.log || true
# Every value on the new primary (read over TLS, the only way in) is sealed.
NEW=$(cli "${SENTINELS[0]}" sentinel get-master-addr-by-name mymaster | tail -n1)
nkeys=0 sealed=0
for k in $(cli "$NEW" --scan --pattern 'sesscache:*'); do
  nkeys=$((nkeys + 1))
  [ "$(cli "$NEW" --raw GET "$k" | head -c 3)" = SC1 ] && sealed=$((sealed + 1))
done
echo "the new primary (port $NEW) holds $nkeys sessions, $sealed of them sealed"
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
check '[ "$nkeys" -ge 12 ] && [ "$sealed" = "$nkeys" ]' "every value in Redis is sealed (Redis and the sentinels take TLS only)"
check '[ "$(stat_of B refreshes)" -ge 2 ]' "the sentinels were asked again after the failure ($(stat_of B refreshes) times)"
check '[ "$(stat_of B corrupt)" = 0 ] && [ "$(stat_of B errors)" -ge 1 ] && [ "$(stat_of B timeouts)" -ge 1 ]' \
  "no corrupt value; the dead primary counted as errors, the stalled one as timeouts"
check '! grep -q sesscache "$D/A.err" "$D/B.err"' "no message from the preload"
exit $fail
