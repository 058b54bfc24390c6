#!/usr/bin/env bash
# The real-world matrix (`make test-servers`): servers and runtimes from Debian, each run without
# and then with libsesscache_preload.so, and the two runs compared. One line per case; it fails
# on any difference (reuse, the server's own counters, session_stats) and on any check of the
# preload's statistics files. Ends with "N cases, M failed".
#
#   nginx builtin / shared   2 workers, `nginx -t` and `nginx -s reload` with the same environment,
#                            TLS 1.2 and 1.3 without tickets (scripts/servers/client.py chains)
#   haproxy                  -db, no tickets, its `show info` counters, stopped with SIGTERM
#   apache                   prefork, shmcb, www-data children, stopped with SIGTERM
#   python ssl               scripts/servers/bio.py: ssl.MemoryBIO, TLS 1.2/1.3, tickets on/off
#   perl IO::Socket::SSL     scripts/servers/server.pl, tickets off and on
#   ruby                     scripts/servers/server.rb: no tickets, NO_INTERNAL and the program's callbacks
#   stunnel                  server mode, sessionCacheSize/-Timeout, no tickets, TLS 1.2, SIGTERM
#   socat fork               OPENSSL-LISTEN,fork + SYSTEM:, a child per connection, TLS 1.2 tickets
#   fleet                    two nginx (2 workers each) sharing one Redis: every offer resumes
#   node_exporter            reads a statistics directory with its textfile collector
#
# Every server listens on a free loopback port and is stopped by its PID; every wait is bounded.
set -u
. "$(dirname "$0")/common.sh"
# PRELOAD=path runs the matrix with another build of the preload.
PRE=${PRELOAD:-$PRE}
CT=target/ct/servers
mkdir -p "$CT"
D=$(mktemp -d "$PWD/$CT/run.XXXXXX")
# shellcheck source=scripts/servers/lib.sh
. scripts/servers/lib.sh
cases=0
failed=()
NGINX_STATS=
PENDING=()
finish() {
  [ "$BASHPID" = "$$" ] || return 0
  servers_cleanup
  if [ "${#failed[@]}" -eq 0 ]; then rm -rf "$D"; else echo "logs kept in $D"; fi
}
trap finish EXIT

missing=()
for c in nginx haproxy apache2 perl python3 ruby stunnel4 socat redis-server redis-cli prometheus-node-exporter openssl; do
  command -v "$c" >/dev/null || missing+=("$c")
done
perl -MIO::Socket::SSL -e 1 2>/dev/null || missing+=("IO::Socket::SSL (libio-socket-ssl-perl)")
[ -f "$PRE" ] || missing+=("$PRE (run make)")
if [ "${#missing[@]}" -gt 0 ]; then echo "missing: ${missing[*]} (.ci/run installs them)"; exit 1; fi
make_cert

# result NAME OK TEXT [DETAIL]: one case line; DETAIL (a file) is shown when it failed.
result() {
  cases=$((cases + 1))
  if [ "$2" = 0 ]; then
    printf 'ok   %-22s %s\n' "$1" "$3"
  else
    failed+=("$1"); printf 'FAIL %-22s %s\n' "$1" "$3"
    if [ -n "${4:-}" ] && [ -s "$4" ]; then sed 's/^/       /' "$4" | head -n 30; fi
  fi
}

# compare NAME [SHOWN]: the case's two summaries ($D/NAME.0 without, $D/NAME.1 with the preload);
# the run without the preload must itself have worked. The case line shows the lines that match
# SHOWN (an extended regex; all of them by default).
compare() {
  local name=$1 shown=${2:-.} a b n
  a=$(paste -sd'|' "$D/$name.0" | sed 's/|/; /g'); b=$(paste -sd'|' "$D/$name.1" | sed 's/|/; /g')
  if [ -z "$a" ] || echo "$a" | grep -qE 'failed|did not|NOT as predicted|DISAGREES|(^|; )log: |stderr:'; then
    cp "$D/$name.0" "$D/$name.why"
    result "$name" 1 "the run without the preload did not work" "$D/$name.why"
  elif [ "$a" = "$b" ]; then
    n=$(grep -cvE "$shown" "$D/$name.0")
    result "$name" 0 "same with and without the preload: $(grep -E "$shown" "$D/$name.0" | paste -sd'|' | sed 's/|/; /g')$([ "$n" -gt 0 ] && echo " (and $n more lines, the same)")"
  else
    diff -u --label "without the preload" --label "with the preload" "$D/$name.0" "$D/$name.1" >"$D/$name.diff"
    result "$name" 1 "differs with the preload" "$D/$name.diff"
  fi
}

# stats_check NAME DIR ACCEPT HITS PIDS REASON: the preload's files in DIR: they parse, one per
# serving process (PIDS; or "not:PID", a process that must not write) and no other, final
# (REASON, exited=1), and their accept and hits counters sum to what the clients saw.
stats_check() {
  local name=$1 s=$2 conns=$3 reused=$4 pids=$5 reason=$6 files fpids acc hits bad=0 why=() who
  files=$(python3 "$SERVERS/stats.py" files "$s" 2>&1)
  python3 "$SERVERS/stats.py" check "$s" >"$D/$name.check" 2>&1 || { bad=1; why+=("$(cat "$D/$name.check")"); }
  fpids=$(echo "$files" | sed -n 's/^pid=\([0-9]*\) .*/\1/p' | sort -n | paste -sd,)
  case $pids in
    not:*) # the serving processes are not known, only the one that must not write
      { [ -n "$fpids" ] && ! echo ",$fpids," | grep -q ",${pids#not:},"; } || { bad=1; why+=("files from pids '$fpids', the parent is ${pids#not:}"); } ;;
    *) [ "$fpids" = "$(echo "$pids" | tr , '\n' | sort -n | paste -sd,)" ] || { bad=1; why+=("files from pids $fpids, served by $pids"); } ;;
  esac
  if echo "$files" | grep -qv "reason=$reason exited=1"; then bad=1; why+=("not all final ($reason): $(echo "$files" | paste -sd' ')"); fi
  acc=$(python3 "$SERVERS/stats.py" sum "$s" sesscache_accept_total)
  hits=$(python3 "$SERVERS/stats.py" sum "$s" sesscache_hits_total)
  [ "$acc" = "$conns" ] || { bad=1; why+=("accept=$acc, the clients made $conns connections"); }
  [ "$hits" = "$reused" ] || { bad=1; why+=("hits=$hits, the clients saw $reused resumptions"); }
  if [ $bad = 0 ]; then
    case $pids in
      not:*) who="none from the parent (${pids#not:})" ;;
      *) who="one per serving process, none from others" ;;
    esac
    result "$name" 0 "$(echo "$files" | wc -l) file(s), $who; accept=$acc hits=$hits as the clients saw; final (reason=$reason)"
  else
    printf '%s\n' "${why[@]}" "$files" >"$D/$name.why"
    result "$name" 1 "statistics files wrong" "$D/$name.why"
  fi
}

# log_state LOG: "log clean", or the first two lines a clean run never has.
log_state() {
  if [ -n "$(log_problems "$1")" ]; then echo "log: $(log_problems "$1" | head -n2)"; else echo "log clean"; fi
}

# both NAME FUNCTION ARGS...: FUNCTION ARGS 0 (without the preload), then FUNCTION ARGS 1 (with
# it, which sets PENDING, the arguments of its stats_check), compared; then the stats check.
both() {
  local name=$1; shift
  PENDING=()
  "$@" 0
  "$@" 1
  compare "$name"
  if [ "${#PENDING[@]}" -gt 0 ]; then stats_check "${PENDING[@]}"; else result "$name stats" 1 "no statistics to check"; fi
}

# ---- nginx ---------------------------------------------------------------------------------
# nginx_case NAME CACHE PREDICT PRE: `nginx -t`, start, 3 chains x 6 connections per protocol
# with a reload halfway, graceful stop. Writes the summary to $D/NAME.PRE; with the preload,
# checks the statistics files.
nginx_case() {
  local name=$1 cache=$2 predict=$3 pre=$4 dir port envs=() s=
  dir=$D/$(echo "$name" | tr ' ' -).$pre.d
  mkdir -p "$dir"
  port=$(free_port)
  nginx_conf "$dir" "$port" "$cache"
  if [ "$pre" = 1 ]; then stats_dir; s=$STATS; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$s"); fi
  {
    nginx_run "$dir" "${envs[@]}" -- -t >"$dir/t.log" 2>&1 || { echo "nginx -t failed: $(tail -n1 "$dir/t.log")"; return; }
    nginx_start "$dir" "${envs[@]}" >"$dir/start.log" || { echo "nginx did not start: $(tail -n3 "$dir/start.log")"; return; }
    printf '. %q\nnginx_reload %q %s >&2\n' "$PWD/scripts/servers/lib.sh" "$dir" "${envs[*]}" >"$dir/reload.sh"
    timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 3 --length 6 --predict "$predict" \
      --between "bash $dir/reload.sh" >"$dir/client.txt" 2>"$dir/client.err" || echo "client failed: $(tail -n1 "$dir/client.err")"
    nginx_stop
    grep -v '^totals' "$dir/client.txt"
    log_state "$dir/error.log"
  } >"$D/$name.$pre"
  if [ "$pre" = 1 ]; then
    client_totals "$dir/client.txt"
    PENDING=("$name stats" "$s" "$T_CONNS" "$T_REUSED" "$T_PIDS" exit)
    NGINX_STATS=$s
  fi
}

for c in "nginx builtin:builtin:1000:same-worker" "nginx shared:shared:SSL:1m:always"; do
  name=${c%%:*}; rest=${c#*:}; predict=${rest##*:}; cache=${rest%:*}
  both "$name" nginx_case "$name" "$cache" "$predict"
done

# ---- node_exporter -------------------------------------------------------------------------
# Its textfile collector reads the last nginx case's statistics directory: no scrape error, and
# the accept counters it exports sum to those of the files.
fetch_metrics() { # PORT FILE
  python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode())' "$1" >"$2" 2>/dev/null
}
node_exporter_case() {
  local port job scrape want got err
  port=$(free_port)
  timeout 60 prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$NGINX_STATS" >"$D/node_exporter.log" 2>&1 &
  job=$!
  SERVER_PIDS+=("$job")
  scrape=$D/node_exporter.txt
  wait_until 10 fetch_metrics "$port" "$scrape"
  stop_pid "$job"
  want=$(python3 "$SERVERS/stats.py" sum "$NGINX_STATS" sesscache_accept_total)
  got=$(awk '/^sesscache_accept_total\{/ { s += $2 } END { print s + 0 }' "$scrape")
  err=$(sed -n 's/^node_textfile_scrape_error \(.*\)/\1/p' "$scrape")
  if [ "$err" = 0 ] && [ "$got" = "$want" ] && [ "$want" != 0 ]; then
    result "node_exporter" 0 "its textfile collector reads the nginx statistics: node_textfile_scrape_error 0, sesscache_accept_total sums to $got as in the files"
  else
    { echo "scrape error: '$err', accept sum: scraped $got, files $want"; grep -i error "$D/node_exporter.log" | head -n5; } >"$D/node_exporter.why"
    result "node_exporter" 1 "the textfile collector does not read the files" "$D/node_exporter.why"
  fi
}
node_exporter_case

# ---- haproxy -------------------------------------------------------------------------------
haproxy_case() {
  local pre=$1 dir=$D/haproxy.$1.d port envs=() s= rc
  mkdir -p "$dir"
  port=$(free_port)
  haproxy_conf "$dir" "$port"
  if [ "$pre" = 1 ]; then stats_dir; s=$STATS; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$s"); fi
  {
    haproxy_start "$dir" "${envs[@]}" >"$dir/start.log" || { echo "haproxy did not start: $(tail -n3 "$dir/start.log")"; return; }
    timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 3 --length 6 --predict always \
      >"$dir/client.txt" 2>"$dir/client.err" || echo "client failed: $(tail -n1 "$dir/client.err")"
    grep -v '^totals' "$dir/client.txt"
    haproxy_info "$dir" CumSslConns SslCacheLookups SslCacheMisses
    kill -TERM "$HAPROXY_PID"; wait "$HAPROXY_JOB"; rc=$?
    echo "SIGTERM: exit status $rc"
    log_state "$dir/haproxy.log"
  } >"$D/haproxy.$pre"
  if [ "$pre" = 1 ]; then
    client_totals "$dir/client.txt"
    PENDING=("haproxy stats" "$s" "$T_CONNS" "$T_REUSED" "$HAPROXY_PID" signal)
  fi
}
both haproxy haproxy_case

# ---- apache2 -------------------------------------------------------------------------------
# prefork, shmcb cache: the parent (root) never handshakes and writes nothing; its www-data
# children write their own files in a sticky directory, as /tmp.
apache_case() {
  local pre=$1 dir=$D/apache.$1.d port envs=() s=
  mkdir -p "$dir"
  port=$(free_port)
  apache_conf "$dir" "$port"
  if [ "$pre" = 1 ]; then stats_dir; s=$STATS; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$s"); fi
  {
    apache_start "$dir" "${envs[@]}" >"$dir/start.log" || { echo "apache2 did not start: $(tail -n3 "$dir/start.log")"; return; }
    timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 3 --length 6 --predict always \
      >"$dir/client.txt" 2>"$dir/client.err" || echo "client failed: $(tail -n1 "$dir/client.err")"
    grep -v '^totals' "$dir/client.txt"
    stop_pid "$APACHE_PID"
    wait "$APACHE_JOB"
    log_state "$dir/error.log"
  } >"$D/apache.$pre"
  if [ "$pre" = 1 ]; then
    client_totals "$dir/client.txt"
    PENDING=("apache stats" "$s" "$T_CONNS" "$T_REUSED" "not:$APACHE_PID" exit)
  fi
}
both apache apache_case

# ---- CPython's ssl -------------------------------------------------------------------------
# 4 cases x 4 connections, client and server in one process: accept and connect 16 each, and
# 12 hits on each side.
for pre in 0 1; do
  envs=(); [ "$pre" = 1 ] && { stats_dir; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$STATS"); }
  timeout 120 env "${envs[@]}" python3 "$SERVERS/bio.py" "$D/cert.pem" "$D/key.pem" >"$D/python ssl.$pre" 2>"$D/python.$pre.err" ||
    echo "bio.py failed: $(tail -n1 "$D/python.$pre.err")" >>"$D/python ssl.$pre"
done
compare "python ssl" '^tls'
stats_check "python ssl stats" "$STATS" 16 24 "$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$D/python.1.err")" exit

# ---- Perl IO::Socket::SSL and Ruby OpenSSL::SSL::SSLServer ----------------------------------
# script_case NAME LABEL COMMAND... PRE: a server script (COMMAND) that prints its port, serves 24
# connections one after the other (3 chains of 4 per protocol) and prints its context's
# counters; its output and the client's summary are compared.
script_case() {
  local name=$1 out=$D/$2.${!#} pre=${!#} envs=() job port
  local cmd=("${@:3:$#-3}")
  [ "$pre" = 1 ] && { stats_dir; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$STATS"); }
  {
    timeout 120 env "${envs[@]}" "${cmd[@]}" >"$out.out" 2>"$out.err" &
    job=$!
    SERVER_PIDS+=("$job")
    if wait_until 10 test -s "$out.out"; then
      port=$(head -n1 "$out.out")
      timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --chains 3 --length 4 --predict always \
        >"$out.client" 2>"$out.client.err" || echo "client failed: $(tail -n1 "$out.client.err")"
      grep -v '^totals' "$out.client"
    fi
    wait_until 20 gone "$job" || stop_pid "$job"
    wait "$job"
    tail -n +2 "$out.out"
    [ -s "$out.err" ] && echo "stderr: $(head -n1 "$out.err")"
  } >"$D/$name.$pre"
  if [ "$pre" = 1 ]; then
    client_totals "$out.client"
    PENDING=("$name stats" "$STATS" "$T_CONNS" "$T_REUSED" "$T_PIDS" exit)
  fi
}
# scripts/servers/server.pl, tickets off (sessions in the cache) and on.
for t in 0 1; do
  name="perl tickets=$([ $t = 1 ] && echo on || echo off)"
  both "$name" script_case "$name" "perl.$t" perl "$SERVERS/server.pl" "$D/cert.pem" "$D/key.pem" 24 "$t"
done
# scripts/servers/server.rb: no tickets, SERVER|NO_INTERNAL with the program's new/get/remove
# callbacks (every resumption is a cb_hit); its session_cache_stats and what its callbacks saw
# must read the same with the preload.
both ruby script_case ruby ruby ruby "$SERVERS/server.rb" "$D/cert.pem" "$D/key.pem" 24

# ---- stunnel -------------------------------------------------------------------------------
# Server mode with its own cache settings (sessionCacheSize, sessionCacheTimeout) and no
# tickets: TLS 1.2 session ids in the cache (its TLS 1.3 stateful tickets resume every other
# connection, with or without the preload, so TLS 1.3 is left to the other cases). One process,
# a thread per connection, `exec` replies; stopped with SIGTERM.
stunnel_case() {
  local pre=$1 dir=$D/stunnel.$1.d port envs=() s= job pid= rc
  mkdir -p "$dir"
  port=$(free_port)
  cat >"$dir/stunnel.conf" <<EOF
foreground = yes
pid = $dir/stunnel.pid
output = $dir/stunnel.log
[tls]
accept = 127.0.0.1:$port
exec = /bin/echo
execArgs = echo - -
cert = $D/cert.pem
key = $D/key.pem
options = NO_TICKET
sessionCacheSize = 100
sessionCacheTimeout = 300
EOF
  if [ "$pre" = 1 ]; then stats_dir; s=$STATS; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$s"); fi
  {
    timeout 120 env "${envs[@]}" stunnel4 "$dir/stunnel.conf" </dev/null >"$dir/stdout.log" 2>&1 &
    job=$!
    SERVER_PIDS+=("$job")
    if wait_until 10 listening "$port" && wait_until 10 test -s "$dir/stunnel.pid"; then
      pid=$(cat "$dir/stunnel.pid")
      timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --protocols 1.2 --chains 3 --length 6 --predict always \
        >"$dir/client.txt" 2>"$dir/client.err" || echo "client failed: $(tail -n1 "$dir/client.err")"
      grep -v '^totals' "$dir/client.txt"
      kill -TERM "$pid"
    else
      echo "stunnel did not start: $(tail -n2 "$dir/stunnel.log")"
    fi
    wait_until 20 gone "$job" || stop_pid "$job"
    wait "$job"; rc=$?
    echo "SIGTERM: exit status $rc"
    grep -hE 'LOG[0-2]|sesscache' "$dir/stunnel.log" "$dir/stdout.log" | head -n2 | sed 's/^/log: /'
  } >"$D/stunnel.$pre"
  if [ "$pre" = 1 ]; then
    client_totals "$dir/client.txt"
    PENDING=("stunnel stats" "$s" "$T_CONNS" "$T_REUSED" "${pid:-?}" exit)
  fi
}
both stunnel stunnel_case

# ---- socat fork ----------------------------------------------------------------------------
# OPENSSL-LISTEN with fork: each connection is handshaken in a child of its own (sessions
# resume by TLS 1.2 tickets, whose key the children share), which forks again to run SYSTEM:
# and exits. One file per connection: none from the listener, none from the SYSTEM: helpers
# (they inherit the counts of the child that forked them but make no connection). TLS 1.2 only:
# socat allows only P-256, so a TLS 1.3 client's first key share draws a HelloRetryRequest and
# libssl counts each resumption's hit twice (as it does without the preload), which the
# clients' count cannot check.
socat_case() {
  local pre=$1 dir=$D/socat.$1.d port envs=() s= job listener=
  mkdir -p "$dir"
  port=$(free_port)
  if [ "$pre" = 1 ]; then stats_dir; s=$STATS; envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$s"); fi
  {
    timeout 120 env "${envs[@]}" socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$D/both.pem,verify=0" \
      SYSTEM:"read -r request; echo - -" </dev/null >"$dir/stdout.log" 2>"$dir/socat.log" &
    job=$!
    SERVER_PIDS+=("$job")
    if wait_until 10 listening "$port"; then
      listener=$(pgrep -P "$job") # socat itself, the child of timeout
      timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$port" --protocols 1.2 --chains 3 --length 6 --predict always \
        >"$dir/client.txt" 2>"$dir/client.err" || echo "client failed: $(tail -n1 "$dir/client.err")"
      grep -v '^totals' "$dir/client.txt"
    else
      echo "socat did not start: $(tail -n2 "$dir/socat.log")"
    fi
    stop_pid "$job"
    wait "$job"
    [ -s "$dir/socat.log" ] && echo "stderr: $(head -n1 "$dir/socat.log")"
  } >"$D/socat.$pre"
  if [ "$pre" = 1 ]; then
    client_totals "$dir/client.txt"
    PENDING=("socat stats" "$s" "$T_CONNS" "$T_REUSED" "not:${listener:-?}" exit)
  fi
}
both socat socat_case

# ---- fleet: two nginx, one Redis -----------------------------------------------------------
# Chains alternate between nginx A and B (2 workers each, builtin caches). Without the preload no
# offer can resume (each process has its own cache); with SESSCACHE_REDIS every offer does. The
# bound on a Redis operation is 1 s, not 50 ms: on a loaded machine a slow lookup is a miss by
# design, and this case is about sharing, not latency (scripts/test.d/fleet.sh tests the bound).
fleet_case() {
  local pre=$1 a=$D/fleet.$1.a b=$D/fleet.$1.b pa pb envs=() sa sb ja jb ma mb pred
  mkdir -p "$a" "$b"
  pa=$(free_port); pb=$(free_port)
  nginx_conf "$a" "$pa" builtin:1000; nginx_conf "$b" "$pb" builtin:1000
  if [ "$pre" = 1 ]; then stats_dir; sa=$STATS; stats_dir; sb=$STATS; fi
  envs=(); [ "$pre" = 1 ] && envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$sa" SESSCACHE_REDIS="redis://127.0.0.1:$REDIS_PORT/0" SESSCACHE_REDIS_TIMEOUT_MS=1000)
  nginx_start "$a" "${envs[@]}" >"$a/start.log" || { cat "$a/start.log"; return 1; }
  ja=$NGINX_JOB; ma=$NGINX_PID
  envs=(); [ "$pre" = 1 ] && envs=(LD_PRELOAD="$PRE" SESSCACHE_STATS="$sb" SESSCACHE_REDIS="redis://127.0.0.1:$REDIS_PORT/0" SESSCACHE_REDIS_TIMEOUT_MS=1000)
  nginx_start "$b" "${envs[@]}" >"$b/start.log" || { cat "$b/start.log"; return 1; }
  jb=$NGINX_JOB; mb=$NGINX_PID
  pred=never; [ "$pre" = 1 ] && pred=always
  timeout 120 python3 "$SERVERS/client.py" "127.0.0.1:$pa" "127.0.0.1:$pb" --chains 3 --length 6 --predict "$pred" \
    >"$D/fleet.$pre.client" 2>"$D/fleet.$pre.err" || echo "client failed: $(tail -n1 "$D/fleet.$pre.err")" >>"$D/fleet.$pre.client"
  NGINX_PID=$ma NGINX_JOB=$ja nginx_stop
  NGINX_PID=$mb NGINX_JOB=$jb nginx_stop
  { log_problems "$a/error.log"; log_problems "$b/error.log"; } >"$D/fleet.$pre.log"
  if [ "$pre" = 1 ]; then
    FLEET_REDIS=$(for s in "$sa" "$sb"; do python3 "$SERVERS/stats.py" lines "$s"; done | grep '^redis ')
  fi
}
if redis_start; then
  fleet_case 0
  fleet_case 1
  ok=1
  grep -q 'reuse as predicted (never)' "$D/fleet.0.client" && [ "$(grep -c 'reuse as predicted (always), server agrees' "$D/fleet.1.client")" = 2 ] &&
    [ ! -s "$D/fleet.0.log" ] && [ ! -s "$D/fleet.1.log" ] && ok=0
  hits=$(echo "$FLEET_REDIS" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^hits=/) s += substr($i, 6) } END { print s + 0 }')
  errs=$(echo "$FLEET_REDIS" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^errors=/) s += substr($i, 8) } END { print s + 0 }')
  [ "${hits:-0}" -gt 0 ] && [ "${errs:-1}" = 0 ] || ok=1
  cat "$D/fleet.0.client" "$D/fleet.1.client" "$D/fleet.0.log" "$D/fleet.1.log" >"$D/fleet.why"
  echo "$FLEET_REDIS" >>"$D/fleet.why"
  result "fleet" "$ok" "2 nginx x 2 workers, one Redis: with SESSCACHE_REDIS every offer resumes across servers \
($(sed -n 's/^tls1.2: [0-9]* conns, \([0-9]*\) offers, \([0-9]*\) reused.*/\2\/\1/p' "$D/fleet.1.client") TLS 1.2, \
$(sed -n 's/^tls1.3: [0-9]* conns, \([0-9]*\) offers, \([0-9]*\) reused.*/\2\/\1/p' "$D/fleet.1.client") TLS 1.3, redis hits=$hits errors=$errs); \
without the preload none does" "$D/fleet.why"
  stop_pid "$REDIS_PID"
else
  result "fleet" 1 "redis-server did not start"
fi

echo
if [ "${#failed[@]}" -gt 0 ]; then echo "failed: ${failed[*]}"; fi
echo "$cases cases, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
