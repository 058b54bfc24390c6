#!/usr/bin/env bash
# The Redis tier (sesscache_redis_attach) against a real redis-server that this script starts
# on a free loopback port without persistence (and a TLS port), and stops: two processes share
# sessions, sealed ones (sesscache_redis_seal_file, key rotation) and over rediss://
# (sesscache_redis_attach_tls), then an outage (stalled, killed, restarted Redis) and corrupt
# values (c_tests/redis_fleet.c).
# redis-server missing is a failure, not a skip: .ci/run installs it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/redis
mkdir -p "$CT"
need_redis
$CC $CFLAGS -Iinclude -o "$CT/redis_fleet" c_tests/redis_fleet.c -L$REL -lsesscache
# put and resume wait up to 1 s (a first TLS connection on a loaded machine can take tens of
# ms); the outage measures the 50 ms bound.
run() { REDIS_FLEET_TIMEOUT_MS=1000 LD_LIBRARY_PATH=$REL "$CT/redis_fleet" "$@"; }

# shellcheck source=scripts/tls-certs.sh
. scripts/tls-certs.sh
port=$(free_port)
tport=$(free_port)
url="redis://127.0.0.1:$port/0"
turl="rediss://127.0.0.1:$tport/0"
cli="redis-cli -h 127.0.0.1 -p $port"
dir="$PWD/$CT"
# A test CA and Redis's certificate for IP 127.0.0.1; two seal keys.
test_ca "$CT" ca
test_cert "$CT" redis ca 'subjectAltName=IP:127.0.0.1'
openssl rand -hex 32 >"$CT/k1"
openssl rand -hex 32 >"$CT/k2"
cp "$CT/k1" "$CT/keys1"
cat "$CT/k2" "$CT/k1" >"$CT/keys21"
# A control script, so that the C program can stall, kill and restart this Redis.
cat >"$CT/ctl.sh" <<CTL
#!/usr/bin/env bash
pidfile='$dir/redis.pid'
case "\$1" in
  start)
    redis-server --bind 127.0.0.1 --port $port --save '' --appendonly no --daemonize yes \\
      --tls-port $tport --tls-cert-file '$dir/redis.pem' --tls-key-file '$dir/redis.key' \\
      --tls-ca-cert-file '$dir/ca.pem' --tls-auth-clients no \\
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

# Sealed values: the keys open them, no keys do not, rotated keys (new first) still do.
run put "$url" svc-s "$CT/sealed.der" "$CT/keys1"
run resume "$url" svc-s "$CT/sealed.der" 1 "$CT/keys1"
run resume "$url" svc-s "$CT/sealed.der" 0 | tee "$CT/nokeys.txt"
grep -q 'corrupt=1' "$CT/nokeys.txt" || { echo "FAIL a sealed value without keys is not counted corrupt"; exit 1; }
run resume "$url" svc-s "$CT/sealed.der" 1 "$CT/keys21"
sid=$(openssl sess_id -inform DER -in "$CT/sealed.der" -noout -text | sed -n 's/^ *Session-ID: //p' | tr A-F a-f)
skey="sesscache:$(printf svc-s | od -An -tx1 | tr -d ' \n'):$sid"
[ "$($cli --raw GET "$skey" | head -c 3)" = SC1 ] || { echo "FAIL the value under $skey is not sealed"; exit 1; }
echo "sealed: $skey holds an SC1 value"

# TLS: sesscache_redis_attach_tls with the test CA; the same Redis read back in plain text.
REDIS_FLEET_CA="$CT/ca.pem" run put "$turl" svc-t "$CT/tls.der" "$CT/keys1"
REDIS_FLEET_CA="$CT/ca.pem" run resume "$turl" svc-t "$CT/tls.der" 1 "$CT/keys1"
run resume "$url" svc-t "$CT/tls.der" 1 "$CT/keys1"

# Outage: the program stalls (SIGSTOP), resumes (SIGCONT), kills and restarts Redis.
run outage "$url" "$cli" "$ctl stop" "$ctl cont" "$ctl kill" "$ctl start"
