# Helpers for tests that run real servers (scripts/test-servers.sh, scripts/test.d/preload-stats.sh):
# a throw-away certificate, nginx, haproxy, apache2 and redis-server started in a run directory
# on free loopback ports and stopped by their PID, bounded waits. Source it after
# scripts/common.sh (free_port, PRE) and after setting D (the run directory, created by the
# caller); call `servers_cleanup` from the caller's EXIT trap.
# shellcheck shell=bash

SERVERS=$PWD/scripts/servers
SERVER_PIDS=()
# The statistics directories live under /tmp (mode 1777, removed by servers_cleanup): a worker
# that drops to `nobody` must be able to reach them, and a clone under /root is not reachable.
STATS_DIRS=()

# wait_until SECONDS COMMAND...: runs COMMAND every 0.05 s until it succeeds or time is up.
wait_until() {
  local n=$(($1 * 20)); shift
  while [ "$n" -gt 0 ]; do
    "$@" && return 0
    sleep 0.05; n=$((n - 1))
  done
  return 1
}

# make_cert: $D/cert.pem, $D/key.pem and $D/both.pem (haproxy's crt), a P-256 self-signed pair.
make_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
    -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
  cat "$D/cert.pem" "$D/key.pem" >"$D/both.pem"
}

# stats_dir [MODE]: a new, empty statistics directory in STATS (default mode 1777, as /tmp).
stats_dir() {
  STATS=$(mktemp -d "${TMPDIR:-/tmp}/sesscache-stats.XXXXXX")
  chmod "${1:-1777}" "$STATS"
  STATS_DIRS+=("$STATS")
}

# stop_pid PID [SIGNAL]: signals PID (default TERM) and waits until it is gone, at most 20 s,
# then KILLs it. The caller `wait`s for its own jobs.
stop_pid() {
  local pid=$1 sig=${2:-TERM}
  kill -"$sig" "$pid" 2>/dev/null || return 0
  wait_until 20 gone "$pid" || kill -KILL "$pid" 2>/dev/null
}
gone() { ! kill -0 "$1" 2>/dev/null; }
# listening PORT: a socket listens on 127.0.0.1:PORT (read from /proc/net/tcp: connecting to
# find out would count as a connection in the server's statistics).
listening() { awk -v a="0100007F:$(printf '%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp; }

servers_cleanup() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for p in "${STATS_DIRS[@]}"; do rm -rf "$p"; done
}

# nginx_conf DIR PORT CACHE [SERVER_DIRECTIVES]: DIR/nginx.conf, 2 workers, `daemon off`, its own
# pid file, error log and temp paths, TLS 1.2 and 1.3 with session tickets off, and a reply that
# names the worker and whether the session was reused ("$pid r" or "$pid .").
nginx_conf() {
  local dir=$1 port=$2 cache=$3 extra=${4:-} user=
  mkdir -p "$dir/tmp"
  # As root, workers run as nobody (nginx's own default group "nobody" does not exist on Debian).
  if [ "$(id -u)" = 0 ]; then user="user nobody $(getent group nogroup >/dev/null && echo nogroup || echo nobody);"; fi
  cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
$user
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy; fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $D/cert.pem;
    ssl_certificate_key $D/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache $cache;
    ssl_session_tickets off;
    $extra
    location / { return 200 "\$pid \$ssl_session_reused\n"; }
  }
}
EOF
}

# nginx_run DIR [VAR=value ...] -- ARGS: nginx with this configuration and environment (for -t
# and -s reload), bounded.
nginx_run() {
  local dir=$1 envs=(); shift
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  timeout 60 env "${envs[@]}" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" "$@"
}

# nginx_workers DIR: the number of "start worker process" lines in DIR's error log.
nginx_workers() { grep -c 'start worker process' "$1/error.log" 2>/dev/null || true; }
# nginx_exited DIR: the number of workers the master saw exit.
nginx_exited() { grep -c 'worker process [0-9]* exited' "$1/error.log" 2>/dev/null || true; }

# nginx_ready DIR STARTED EXITED: the pid file exists, at least STARTED workers were started
# and EXITED have exited.
nginx_ready() { [ -s "$1/nginx.pid" ] && [ "$(nginx_workers "$1")" -ge "$2" ] && [ "$(nginx_exited "$1")" -ge "$3" ]; }

# nginx_start DIR [VAR=value ...]: starts the master in the foreground (bounded by timeout),
# waits for its 2 workers; sets NGINX_PID (the master) and NGINX_JOB (the job to wait for).
nginx_start() {
  local dir=$1; shift
  timeout 300 env "$@" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null >>"$dir/stdout.log" 2>&1 &
  NGINX_JOB=$!
  SERVER_PIDS+=("$NGINX_JOB")
  if ! wait_until 20 nginx_ready "$dir" 2 0; then
    echo "nginx did not start in $dir:"; tail -n 20 "$dir/error.log" "$dir/stdout.log"; return 1
  fi
  NGINX_PID=$(cat "$dir/nginx.pid")
  SERVER_PIDS+=("$NGINX_PID")
}

# nginx_reload DIR [VAR=value ...]: `nginx -s reload` with this environment, then waits until the
# 2 new workers run and the 2 old ones have exited.
nginx_reload() {
  local dir=$1 before exited; shift
  before=$(nginx_workers "$dir"); exited=$(nginx_exited "$dir")
  nginx_run "$dir" "$@" -- -s reload || return 1
  wait_until 20 nginx_ready "$dir" $((before + 2)) $((exited + 2)) || {
    echo "nginx did not reload in $dir:"; tail -n 20 "$dir/error.log"; return 1
  }
}

# nginx_stop DIR: graceful stop (SIGQUIT to the master), waits for it.
nginx_stop() { stop_pid "$NGINX_PID" QUIT; wait "$NGINX_JOB" 2>/dev/null; }

# client_totals FILE: reads the `totals` line of scripts/servers/client.py's output into
# T_CONNS, T_REUSED and T_PIDS ("?" when missing).
client_totals() {
  local line
  line=$(grep '^totals ' "$1" 2>/dev/null)
  T_CONNS=$(echo "$line" | sed -n 's/.* connections=\([0-9]*\).*/\1/p'); T_CONNS=${T_CONNS:-?}
  T_REUSED=$(echo "$line" | sed -n 's/.* reused=\([0-9]*\).*/\1/p'); T_REUSED=${T_REUSED:-?}
  T_PIDS=$(echo "$line" | sed -n 's/.* pids=\([0-9,]*\).*/\1/p')
}

# log_problems LOG: the lines of an nginx, haproxy or apache log that a clean run never has.
log_problems() { grep -E '\[([a-z_]*:)?(emerg|alert|crit|error)\]|sesscache|Permission denied|Operation not permitted' "$1" || true; }

# haproxy_conf DIR PORT: DIR/haproxy.cfg, one TLS frontend without tickets, an admin socket, a
# reply "-" (no process to name: haproxy's threads share one cache).
haproxy_conf() {
  local dir=$1 port=$2
  cat >"$dir/haproxy.cfg" <<EOF
global
  stats socket $dir/admin.sock mode 600 level admin
  ssl-default-bind-options no-tls-tickets
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend tls
  bind 127.0.0.1:$port ssl crt $D/both.pem
  http-request return status 200 content-type text/plain string "- -"
EOF
}

# haproxy_start DIR [VAR=value ...]: `haproxy -db` in the foreground (bounded); sets HAPROXY_JOB
# and HAPROXY_PID (haproxy itself, as its admin socket tells).
haproxy_start() {
  local dir=$1; shift
  timeout 300 env "$@" haproxy -db -f "$dir/haproxy.cfg" </dev/null >>"$dir/haproxy.log" 2>&1 &
  HAPROXY_JOB=$!
  SERVER_PIDS+=("$HAPROXY_JOB")
  if ! wait_until 20 test -S "$dir/admin.sock"; then
    echo "haproxy did not start in $dir:"; tail -n 20 "$dir/haproxy.log"; return 1
  fi
  HAPROXY_PID=$(haproxy_info "$dir" Pid | sed 's/^Pid=//')
  SERVER_PIDS+=("$HAPROXY_PID")
}

# haproxy_info DIR FIELD...: `show info` on the admin socket, the fields asked for as FIELD=value.
haproxy_info() {
  local dir=$1; shift
  python3 - "$dir/admin.sock" "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"show info\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
info = dict(l.split(": ", 1) for l in data.decode().splitlines() if ": " in l)
print(" ".join(f"{k}={info.get(k, '?')}" for k in sys.argv[2:]))
EOF
}

# apache_conf DIR PORT: DIR/apache2.conf for Debian's apache2: prefork with 2 children (as
# www-data when run as root), mod_ssl with an shmcb session cache and tickets off, its own pid
# file, mutexes and error log. It serves no file (the workers may not reach DIR): every reply is
# a 410 with the body "- -".
apache_conf() {
  local dir=$1 port=$2 mods=/usr/lib/apache2/modules user=
  mkdir -p "$dir/htdocs"
  if [ "$(id -u)" = 0 ]; then user="User www-data
Group www-data"; fi
  cat >"$dir/apache2.conf" <<EOF
ServerRoot "$dir"
ServerName localhost
PidFile $dir/apache2.pid
Mutex file:$dir default
Listen 127.0.0.1:$port
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule alias_module $mods/mod_alias.so
StartServers 2
MinSpareServers 2
MaxSpareServers 2
$user
ErrorLog $dir/error.log
LogLevel warn
DocumentRoot $dir/htdocs
Redirect gone /
ErrorDocument 410 "- -"
SSLSessionCache shmcb:$dir/scache(512000)
SSLSessionTickets off
SSLEngine on
SSLCertificateFile $D/cert.pem
SSLCertificateKeyFile $D/key.pem
EOF
}

# apache_start DIR [VAR=value ...]: apache2 -DFOREGROUND (bounded); sets APACHE_JOB and APACHE_PID
# (the parent, from its pid file), and waits for its 2 children.
apache_start() {
  local dir=$1; shift
  timeout 300 env "$@" apache2 -d "$dir" -f "$dir/apache2.conf" -DFOREGROUND </dev/null >>"$dir/stdout.log" 2>&1 &
  APACHE_JOB=$!
  SERVER_PIDS+=("$APACHE_JOB")
  if ! wait_until 20 test -s "$dir/apache2.pid"; then
    echo "apache2 did not start in $dir:"; tail -n 20 "$dir/error.log" "$dir/stdout.log"; return 1
  fi
  APACHE_PID=$(cat "$dir/apache2.pid")
  SERVER_PIDS+=("$APACHE_PID")
  wait_until 10 apache_children "$APACHE_PID"
}
apache_children() { [ "$(pgrep -c -P "$1")" -ge 2 ]; }

redis_up() { timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# redis_start: redis-server on a free port in $D (no persistence); sets REDIS_PORT, REDIS_PID.
redis_start() {
  REDIS_PORT=$(free_port)
  timeout 300 redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$D" \
    >>"$D/redis.log" 2>&1 &
  REDIS_PID=$!
  SERVER_PIDS+=("$REDIS_PID")
  wait_until 10 redis_up || {
    echo "redis-server did not start:"; tail -n 20 "$D/redis.log"; return 1
  }
}
