#!/usr/bin/env bash
# SESSCACHE_STATS under real servers: one file per process, only from processes that handshake,
# kept current, written at exit and on signals, writable by unprivileged workers.
#
# 1. c_tests/preload/signals.c: the same transcript with and without the preload (default action,
#    ignored, handlers before and after, SA_SIGINFO, sa_mask, SA_RESTART, SA_RESETHAND, a blocked
#    signal, _exit in a handler, fork), and each process's file counts every handshake.
# 2. nginx, 2 workers (as `nobody` when run as root), shared cache, fleet mode, with `nginx -t` and
#    `nginx -s reload` run with the same environment: within 3 s of the last connection the files
#    add up to what the client saw (program callbacks and Redis included); at the end there is one
#    file per worker that served, none from the master, `-t` or `-s reload`, and nothing in the
#    error log.
# 3. The same nginx with a directory its workers cannot write: one line in the error log for the
#    whole server, saying what to do.
# 4. haproxy -db ended by SIGTERM: exit status 143 as without the preload, and its file is final.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# A PRE given in the environment (another build of the preload) wins over common.sh's.
PRE=${PRELOAD:-$PRE}
CT=target/ct/preload
mkdir -p "$CT"
D=$(mktemp -d "$PWD/$CT/stats.XXXXXX")
# shellcheck source=scripts/servers/lib.sh
. scripts/servers/lib.sh
trap 'servers_cleanup; [ "$fail" = 0 ] && rm -rf "$D"' EXIT
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
for c in nginx haproxy redis-server python3; do
  command -v "$c" >/dev/null || { echo "$c is not installed (.ci/run installs it)"; exit 1; }
done
need_preload
make_cert
stat_sum() { python3 "$SERVERS/stats.py" sum "$1" "$2"; }

echo "== 1. signals.c with and without the preload"
# shellcheck disable=SC2086
$CC $CFLAGS -Ic_tests -o "$D/signals" c_tests/preload/signals.c -lssl -lcrypto
timeout 120 "$D/signals" >"$D/signals.libssl.txt"
stats_dir; S=$STATS
timeout 120 env LD_PRELOAD="$PRE" SESSCACHE_STATS="$S" "$D/signals" "$D/manifest" >"$D/signals.preload.txt"
check 'diff -u "$D/signals.libssl.txt" "$D/signals.preload.txt"' \
  "signals.c: the same transcript ($(grep -c '^==' "$D/signals.libssl.txt") scenarios) with and without the preload"
while read -r name pid last accepts; do
  f=$S/sesscache-signals-$pid.prom
  got=$( [ -f "$f" ] && python3 "$SERVERS/stats.py" files "$f" | sed 's/^pid=[0-9]* program=[^ ]* //')
  acc=$( [ -f "$f" ] && stat_sum "$f" sesscache_accept_total)
  if [ "$last" = nofile ]; then
    check '[ ! -e "$f" ]' "signals.c $name: a child that inherited its parent's counters and made no connection writes no file"
    continue
  fi
  case $last in
    signal) want="reason=signal exited=1" ;;
    exit) want="reason=exit exited=1" ;;
    *) want="exited=0" ;;
  esac
  check '[ "${acc:-}" = "$accepts" ] && [[ "$got" == *"$want" ]]' \
    "signals.c $name: its file counts $accepts accepts (${acc:-no file}) and says $want (${got:-})"
done <"$D/manifest"

echo "== 2. nginx: 2 workers, shared cache, Redis, nginx -t and -s reload with the same environment"
redis_start || exit 1
N=$D/nginx; mkdir -p "$N"
port=$(free_port)
nginx_conf "$N" "$port" shared:SSL:1m
stats_dir; S=$STATS
envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$S" SESSCACHE_REDIS="redis://127.0.0.1:$REDIS_PORT/0" SESSCACHE_REDIS_TIMEOUT_MS=1000)
nginx_run "$N" "${envs[@]}" -- -t >"$D/t.log" 2>&1
check '[ -z "$(ls "$S")" ]' "nginx -t wrote nothing: $(tail -n1 "$D/t.log")"
nginx_start "$N" "${envs[@]}" || exit 1
printf '. %q\nnginx_reload %q %s >&2\n' "$PWD/scripts/servers/lib.sh" "$N" "${envs[*]}" >"$D/reload.sh"
timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 2 --length 6 --predict always \
  --between "bash $D/reload.sh" >"$D/client.txt" 2>"$D/client.err" || cat "$D/client.err"
cat "$D/client.txt"
client_totals "$D/client.txt"
conns=$T_CONNS reused=$T_REUSED pids=$T_PIDS
# Nothing happens after the last connection: the writer threads must still catch up.
current() {
  [ "$(stat_sum "$S" sesscache_accept_total)" = "$conns" ] && [ "$(stat_sum "$S" sesscache_hits_total)" = "$reused" ] &&
    [ "$(stat_sum "$S" sesscache_cb_hits_total)" = "$reused" ] && [ "$(stat_sum "$S" sesscache_redis_stores_total)" -gt 0 ]
}
t0=$(date +%s%N)
wait_until 3 current; ok=$?
echo "files caught up after $((($(date +%s%N) - t0) / 1000000)) ms: accept=$(stat_sum "$S" sesscache_accept_total) hits=$(stat_sum "$S" sesscache_hits_total) cb_hits=$(stat_sum "$S" sesscache_cb_hits_total) redis stores=$(stat_sum "$S" sesscache_redis_stores_total)"
check '[ $ok = 0 ]' "within 3 s of the last connection, with nginx still running, the files add up to the client's $conns connections and $reused resumptions (nginx's own cache callbacks), with Redis stores"
master=$NGINX_PID
nginx_stop
python3 "$SERVERS/stats.py" files "$S"
fpids=$(python3 "$SERVERS/stats.py" files "$S" | sed -n 's/^pid=\([0-9]*\) .*/\1/p' | sort -n | paste -sd,)
check '[ -n "$pids" ] && [ "$fpids" = "$(echo "$pids" | tr , "\n" | sort -n | paste -sd,)" ]' \
  "one file per worker that served ($pids), none from the master ($master), nginx -t or nginx -s reload"
check '! python3 "$SERVERS/stats.py" files "$S" | grep -v "reason=exit exited=1"' "every worker's file is final (reason=exit)"
check '[ "$(stat_sum "$S" sesscache_accept_total)" = "$conns" ] && [ "$(stat_sum "$S" sesscache_hits_total)" = "$reused" ]' \
  "the files still add up after the workers exited"
check 'python3 "$SERVERS/stats.py" check "$S"' "every file is valid Prometheus text with the same HELP lines"
if [ "$(id -u)" = 0 ]; then
  check '[ "$(stat -c %U "$S"/*.prom | sort -u)" = nobody ]' "the files were written by the workers, as nobody"
fi
check '[ -z "$(log_problems "$N/error.log")" ]' "nothing in nginx's error log: $(log_problems "$N/error.log" | head -n1)"

echo "== 3. nginx with a statistics directory its workers cannot write"
N=$D/nginx-ro; mkdir -p "$N"
port=$(free_port)
nginx_conf "$N" "$port" builtin:1000
# As root the workers run as nobody and cannot write in root's 0755 directory; otherwise 0555.
if [ "$(id -u)" = 0 ]; then stats_dir 0755; else stats_dir 0555; fi
S=$STATS
nginx_start "$N" LD_PRELOAD="$PRE" SESSCACHE_STATS="$S" || exit 1
timeout 60 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 4 --length 3 --predict same-worker >"$D/client-ro.txt" 2>&1
sleep 1.5
nginx_stop
grep sesscache "$N/error.log" | sed 's/^/  /'
check '[ "$(grep -c sesscache "$N/error.log")" = 1 ] && grep -q "chmod 1777" "$N/error.log"' \
  "one line in the error log for the whole server (2 workers), saying what to do"

echo "== 4. haproxy -db, ended by SIGTERM"
H=$D/haproxy; mkdir -p "$H"
port=$(free_port)
haproxy_conf "$H" "$port"
stats_dir; S=$STATS
haproxy_start "$H" LD_PRELOAD="$PRE" SESSCACHE_STATS="$S" || exit 1
timeout 60 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 2 --length 3 --predict always >"$D/client-h.txt" 2>&1
client_totals "$D/client-h.txt"
conns=$T_CONNS reused=$T_REUSED
kill -TERM "$HAPROXY_PID"; wait "$HAPROXY_JOB"; rc=$?
python3 "$SERVERS/stats.py" files "$S"
check '[ $rc = 143 ]' "haproxy ended by SIGTERM, as without the preload (exit status $rc)"
check 'python3 "$SERVERS/stats.py" files "$S" | grep -qx "pid=$HAPROXY_PID program=haproxy reason=signal exited=1"' \
  "its file was written at the signal"
check '[ "$(stat_sum "$S" sesscache_accept_total)" = "$conns" ] && [ "$(stat_sum "$S" sesscache_hits_total)" = "$reused" ]' \
  "it counts the client's $conns connections and $reused resumptions"
exit $fail
