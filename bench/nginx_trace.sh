#!/bin/sh
# Regenerates bench/nginx_trace.h, the heap traffic of one nginx TLS handshake that the
# benchmark's "nginx" layout replays: runs nginx (one process) with bench/mtrace.c preloaded,
# makes seven TLS 1.2 full handshakes (no tickets, so the server caches a session each time)
# with `openssl s_client`, a pause between them, and hands the trace to bench/nginx_trace.py.
#
#   sh bench/nginx_trace.sh            (from the repository root; needs nginx, openssl, cc)
set -eu
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$tmp/mtrace.so" bench/mtrace.c
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $tmp/error.log;
pid $tmp/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp;
    uwsgi_temp_path $tmp; scgi_temp_path $tmp;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.2;
        ssl_session_cache builtin:20480;
        ssl_session_tickets off;
        location / { return 200 "ok\n"; }
    }
}
CONF
MTRACE_OUT="$tmp/trace" LD_PRELOAD="$tmp/mtrace.so" nginx -e "$tmp/error.log" -p "$tmp" -c "$tmp/nginx.conf" &
pid=$!
i=0
until openssl s_client -connect "127.0.0.1:$port" -tls1_2 </dev/null >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 50 ]; then echo "nginx_trace.sh: nginx did not start" >&2; exit 1; fi
    sleep 0.1
done
sleep 0.6
for i in 1 2 3 4 5 6 7; do
    openssl s_client -connect "127.0.0.1:$port" -tls1_2 -no_ticket </dev/null >/dev/null 2>&1
    sleep 0.6
done
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
python3 bench/nginx_trace.py "$tmp/trace" > bench/nginx_trace.h
