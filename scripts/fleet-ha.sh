# Sourced by scripts/test.d/fleet-cluster.sh and fleet-sentinel.sh (after common.sh): the two
# `openssl s_server -no_ticket` under the preload that share sessions through Redis only, and
# scripts/fleet-ha.py as their client. Uses the caller's D (a directory with cert.pem,
# cert.key, ca.pem, keys and ctl.sh), BOUND (SESSCACHE_REDIS_TIMEOUT_MS) and PIDS (the PIDs its
# cleanup stops).
# shellcheck shell=bash

# ha_server NAME URL: s_server NAME under the preload in fleet mode on a free port, Redis the only
# store, sealed values; sets PORT_NAME and PID_NAME.
ha_server() {
  local port
  port=$(free_port)
  mkdir -p "$D/$1.stats"
  env LD_PRELOAD="$PRE" SESSCACHE_STATS="$D/$1.stats" SESSCACHE_REDIS="$2" SESSCACHE_REDIS_CA="$D/ca.pem" \
    SESSCACHE_REDIS_TIMEOUT_MS="$BOUND" SESSCACHE_REDIS_SEAL_KEYS="$D/keys" SESSCACHE_MODE='server|no_internal_store' \
    timeout 600 openssl s_server -accept "127.0.0.1:$port" -cert "$D/cert.pem" -key "$D/cert.key" -no_ticket -www \
    </dev/null >"$D/$1.out" 2>"$D/$1.err" &
  PIDS+=($!)
  eval "PORT_$1=$port PID_$1=$!"
  for _ in $(seq 200); do grep -q '^ACCEPT' "$D/$1.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "s_server $1 did not start"; cat "$D/$1.err"; exit 1
}

# ha_client SCENARIO: fleet-ha.py against servers A and B (at most 300 s), then SIGTERM to both,
# which write their final counters (SESSCACHE_STATS) before they end; prints their Redis
# counters. Returns 1 when a check of the client failed.
ha_client() {
  local rc=0 start s
  start=$(date +%s)
  FLEET_HA_PIDS="$PID_A $PID_B" timeout 300 python3 scripts/fleet-ha.py "$1" "$PORT_A" "$PORT_B" "$BOUND" \
    bash "$D/ctl.sh" || rc=1
  echo "client: $(( $(date +%s) - start )) s"
  kill "$PID_A" "$PID_B"
  wait "$PID_A" "$PID_B" 2>/dev/null || true
  for s in A B; do echo "$s stats: $(redis_line $s)"; done
  return $rc
}

# The Redis counters of server NAME (its statistics line), and one of them: stat_of NAME COUNTER.
redis_line() { python3 scripts/servers/stats.py lines "$D/$1.stats" | grep '^redis ' || true; }
stat_of() { redis_line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
