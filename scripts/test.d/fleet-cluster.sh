#!/usr/bin/env bash
# Fleet mode over Redis Cluster (docs/fleet.md, "Redis Cluster"): a cluster that this script
# starts on loopback (three primaries made by `redis-cli --cluster create --cluster-replicas 0`,
# then a replica added to the third and one to the first), each node on a free port whose
# cluster bus port (+10000)
# is free too, without persistence, with cluster-require-full-coverage off; TLS only (clients,
# bus and replication) with a test CA and the password "fleet-pw"; every node listens on
# 127.0.0.1 and 127.0.0.2 and announces 127.0.0.2 (cluster-announce-ip), while the URLs name
# 127.0.0.1, so the store reaches the nodes at the addresses the slot map gives. Two `openssl
# s_server -no_ticket` under the preload with SESSCACHE_REDIS=rediss-cluster://… (A names one
# seed, a replica; B all three primaries; sealed values; Redis the only store) and
# scripts/fleet-ha.py as the client:
#   - 12 sessions of A resumed by B, their keys on every primary (redis-cli --scan on each);
#   - a primary stalled (SIGSTOP): its sessions miss within the bound, the others hit;
#   - slots migrated by hand (CLUSTER SETSLOT, MIGRATE) while serving: ASK, then MOVED, no miss;
#   - `redis-cli --cluster reshard` of 2000 slots while sessions are minted and resumed: no
#     failed handshake, and no miss but the quick ones after one wait (a node that did not answer
#     within the bound is skipped for its window);
#   - the third primary killed (SIGKILL): its sessions miss, each within the bound, while the
#     others hit; its replica takes over and they hit again;
#   - the first primary stalled (SIGSTOP) until its replica takes over: its sessions miss, each
#     lookup that reaches it waiting at most the bound, while the others hit; then they hit
#     again. The figures are printed.
# Every process is stopped by its PID; redis-server missing is a failure, not a skip.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# shellcheck source=scripts/tls-certs.sh
. scripts/tls-certs.sh
# shellcheck source=scripts/fleet-ha.sh
. scripts/fleet-ha.sh
CT=target/ct/fleet-cluster
mkdir -p "$CT"
need_redis
need_preload
D=$(mktemp -d "$PWD/$CT/run.XXXXXX")
# The nodes' directories (nodes.conf, which every CLUSTER SETSLOT rewrites and fsyncs) in memory
# when the machine has /dev/shm: a disk busy with other work would stall a node for the fsync.
N=$(mktemp -d /dev/shm/sesscache-cluster.XXXXXX 2>/dev/null || mktemp -d "$D/nodes.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "$D"/pid.*; do [ -f "$p" ] && { kill -CONT "$(cat "$p")" 2>/dev/null || true; }; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$D" "$N"
}
trap cleanup EXIT
BOUND=200
PW=fleet-pw
test_ca "$D" ca
test_cert "$D" redis ca 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2'

# A free loopback port whose cluster bus port (port + 10000) is free too.
bus_port() {
  python3 - <<'PY'
import socket
for _ in range(500):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    if p + 10000 <= 65535:
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p + 10000))
            print(p)
            break
        except OSError:
            pass
        finally:
            t.close()
    s.close()
else:
    raise SystemExit("no free port pair")
PY
}

export D PW
cli() { local p=$1; shift; timeout 30 redis-cli --tls --cacert "$D/ca.pem" -a "$PW" --no-auth-warning -h 127.0.0.1 -p "$p" "$@"; }
PORTS=()
node() { # starts a cluster node on a free port pair; appends its port to PORTS
  local p pid try
  for try in 1 2 3; do
    p=$(bus_port)
    mkdir -p "$N/$p"
    start_node "$p"
    pid=$!
    for _ in $(seq 100); do
      cli "$p" ping 2>/dev/null | grep -q PONG && { PIDS+=("$pid"); PORTS+=("$p"); return 0; }
      # Another process took the port (or its bus port) meanwhile: another pair.
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "redis-server did not come up on $p (try $try):"; tail -n 5 "$N/$p/log"
  done
  exit 1
}
start_node() { # PORT: one cluster node, in the background
  local p=$1
  timeout 600 redis-server --bind 127.0.0.1 127.0.0.2 --port 0 --tls-port "$p" --tls-cluster yes \
    --tls-replication yes --tls-cert-file "$D/redis.pem" --tls-key-file "$D/redis.key" \
    --tls-ca-cert-file "$D/ca.pem" --tls-auth-clients no --requirepass "$PW" --masterauth "$PW" \
    --dir "$N/$p" --save '' --appendonly no --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 2000 --cluster-require-full-coverage no --cluster-announce-ip 127.0.0.2 \
    --logfile "$N/$p/log" &
}
node; node; node
P1=${PORTS[0]} P2=${PORTS[1]} P3=${PORTS[2]}
cli "$P1" --cluster create "127.0.0.1:$P1" "127.0.0.1:$P2" "127.0.0.1:$P3" --cluster-replicas 0 --cluster-yes \
  >"$D/create.log" 2>&1 || { cat "$D/create.log"; exit 1; }
cluster_ok() { for p in "$@"; do cli "$p" cluster info | grep -q 'cluster_state:ok' || return 1; done; }
for _ in $(seq 200); do cluster_ok "$P1" "$P2" "$P3" && break; sleep 0.05; done
cluster_ok "$P1" "$P2" "$P3" || { echo "the cluster did not come up"; exit 1; }
# A replica for the third primary and one for the first.
replica_of() { # PRIMARY: starts a node and makes it the replica of PRIMARY; sets REPLICA
  local id
  node
  REPLICA=${PORTS[-1]}
  id=$(cli "$1" cluster myid)
  cli "$1" --cluster add-node "127.0.0.1:$REPLICA" "127.0.0.1:$1" --cluster-slave --cluster-master-id "$id" \
    >"$D/add.log" 2>&1 || { cat "$D/add.log"; exit 1; }
  for _ in $(seq 200); do cli "$REPLICA" info replication | grep -q 'master_link_status:up' && break; sleep 0.05; done
  cli "$REPLICA" info replication | grep -q 'master_link_status:up' || { echo "the replica did not sync"; exit 1; }
}
replica_of "$P3"; R3=$REPLICA
replica_of "$P1"; R1=$REPLICA
echo "redis $(redis-server --version | cut -d' ' -f3): a cluster of 3 primaries and 2 replicas on loopback, TLS only, announced on 127.0.0.2"

# The control script that fleet-ha.py runs (ports and PIDs from the environment).
for p in "${PORTS[@]}"; do cli "$p" info server | tr -d '\r' | sed -n 's/^process_id://p' >"$D/pid.$p"; done
export P1 P2 P3 R1 R3
cat >"$D/ctl.sh" <<'CTL'
#!/usr/bin/env bash
set -euo pipefail
cli() { local p=$1; shift; timeout 30 redis-cli --tls --cacert "$D/ca.pem" -a "$PW" --no-auth-warning -h 127.0.0.1 -p "$p" "$@"; }
slot_of() { cli "$1" cluster keyslot "$2"; }
move_keys() { # FROM TO KEY...: MIGRATE each key (a key already moved is NOKEY)
  local from=$1 to=$2; shift 2
  local k
  for k in "$@"; do cli "$from" migrate 127.0.0.1 "$to" "" 0 5000 auth "$PW" keys "$k" >/dev/null; done
}
case "$1" in
  primaries) echo "$P1 $P2 $P3" ;;
  replica-of) if [ "$2" = "$P1" ]; then echo "$R1"; else echo "$R3"; fi ;;
  nodes) cli "$P3" cluster nodes ;;
  is-primary) if cli "$2" role | head -n1 | grep -q master; then echo yes; else echo no; fi ;;
  # Every key on every primary that is up, as "port key".
  scan)
    for p in $P1 $P2 $P3 $R1 $R3; do
      # (a stopped node does not answer: 2 s for it)
      timeout 2 redis-cli --tls --cacert "$D/ca.pem" -a "$PW" --no-auth-warning -h 127.0.0.1 -p "$p" role \
        2>/dev/null | head -n1 | grep -q master || continue
      cli "$p" --scan --pattern 'sesscache:*' | sed "s/^/$p /"
    done ;;
  stop) kill -STOP "$(cat "$D/pid.$2")" ;;
  cont) kill -CONT "$(cat "$D/pid.$2")" ;;
  kill) kill -KILL "$(cat "$D/pid.$2")" ;;
  # migrate-start FROM TO KEY...: the keys' slots become migrating (FROM) and importing (TO),
  # and the first half of the keys move: the others stay where they were.
  migrate-start)
    from=$2 to=$3; shift 3
    fid=$(cli "$from" cluster myid); tid=$(cli "$to" cluster myid)
    for k in "$@"; do
      s=$(slot_of "$from" "$k")
      cli "$to" cluster setslot "$s" importing "$fid" >/dev/null
      cli "$from" cluster setslot "$s" migrating "$tid" >/dev/null
    done
    half=$(( ($# + 1) / 2 ))
    move_keys "$from" "$to" "${@:1:$half}" ;;
  # migrate-finish FROM TO KEY...: every key of those slots moves and the slots change owner.
  migrate-finish)
    from=$2 to=$3; shift 3
    tid=$(cli "$to" cluster myid)
    for k in "$@"; do
      s=$(slot_of "$from" "$k")
      for _ in $(seq 100); do
        keys=$(cli "$from" cluster getkeysinslot "$s" 100)
        [ -z "$keys" ] && break
        # shellcheck disable=SC2086
        move_keys "$from" "$to" $keys
      done
      for p in "$to" "$from" $P1 $P2 $P3; do cli "$p" cluster setslot "$s" node "$tid" >/dev/null; done
    done ;;
  # reshard FROM TO N: redis-cli moves N slots (and their keys) from FROM to TO.
  reshard)
    cli "$2" --cluster reshard "127.0.0.1:$2" --cluster-from "$(cli "$2" cluster myid)" \
      --cluster-to "$(cli "$3" cluster myid)" --cluster-slots "$4" --cluster-yes >"$D/reshard.log" 2>&1 ;;
  *) echo "unknown: $1"; exit 1 ;;
esac
CTL

test_self_signed "$D" cert
openssl rand -hex 32 >"$D/keys"
# A's one seed is a replica (it answers CLUSTER SLOTS as a primary does).
ha_server A "rediss-cluster://:$PW@127.0.0.1:$R1"
ha_server B "rediss-cluster://:$PW@127.0.0.1:$P3,127.0.0.1:$P1,127.0.0.1:$P2"

fail=0
ha_client cluster || fail=1
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
check '[ "$(( $(stat_of A redirects) + $(stat_of B redirects) ))" -gt 0 ]' "MOVED and ASK were followed (redirects counted)"
check '[ "$(stat_of B refreshes)" -ge 2 ]' "the slot map was refreshed ($(stat_of B refreshes) times)"
check '[ "$(stat_of B corrupt)" = 0 ] && [ "$(stat_of A corrupt)" = 0 ]' "no corrupt value"
check '! grep -q sesscache "$D/A.err" "$D/B.err"' "no message from the preload"
exit $fail
