#!/usr/bin/env bash
# The Redis tier (sesscache_redis_attach) against a real redis-server that this script starts
# on a free loopback port without persistence, and stops: two processes share sessions, then
# an outage (stalled, killed, restarted Redis) and corrupt values (c_tests/redis_fleet.c).
# redis-server missing is a failure, not a skip: .ci/run installs it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/redis
mkdir -p "$CT"
command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)"; exit 1; }
command -v redis-cli >/dev/null || { echo "redis-cli is not installed"; exit 1; }
$CC $CFLAGS -Iinclude -o "$CT/redis_fleet" c_tests/redis_fleet.c -L$REL -lsesscache
run() { LD_LIBRARY_PATH=$REL "$CT/redis_fleet" "$@"; }

port=$(free_port)
url="redis://127.0.0.1:$port/0"
cli="redis-cli -h 127.0.0.1 -p $port"
dir="$PWD/$CT"
# A control script, so that the C program can stall, kill and restart this Redis.
cat >"$CT/ctl.sh" <<CTL
#!/usr/bin/env bash
pidfile='$dir/redis.pid'
case "\$1" in
  start)
    redis-server --bind 127.0.0.1 --port $port --save '' --appendonly no --daemonize yes \\
      --pidfile "\$pidfile" --logfile '$dir/redis.log' --dir '$dir' >/dev/null || exit 1
    for _ in \$(seq 1 100); do
      $cli ping 2>/dev/null | grep -q PONG && exit 0
      sleep 0.05
    done
    echo "redis-server did not come up on port $port"; exit 1 ;;
  stop) kill -STOP "\$(cat "\$pidfile")" ;;
  cont) kill -CONT "\$(cat "\$pidfile")" ;;
  kill)
    [ -f "\$pidfile" ] || exit 0
    pid=\$(cat "\$pidfile")
    kill -CONT "\$pid" 2>/dev/null; kill -KILL "\$pid" 2>/dev/null
    for _ in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.02; done
    rm -f "\$pidfile" ;;
esac
CTL
ctl="bash $dir/ctl.sh"
trap '$ctl kill' EXIT
$ctl start

# Sharing: a session made by one process is resumed by another, through Redis alone.
run put "$url" svc-a "$CT/client.der"
run resume "$url" svc-a "$CT/client.der" 1
# Another service (sid_ctx) on the same Redis does not see it.
run resume "$url" svc-b "$CT/client.der" 0
echo "redis keys: $($cli --scan --pattern 'sesscache:*' | tr '\n' ' ')"

# Outage: the program stalls (SIGSTOP), resumes (SIGCONT), kills and restarts Redis.
run outage "$url" "$cli" "$ctl stop" "$ctl cont" "$ctl kill" "$ctl start"
