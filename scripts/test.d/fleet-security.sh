#!/usr/bin/env bash
# Fleet security of the preload (docs/fleet.md): unmodified `openssl s_server` processes under
# libsesscache_preload.so share sessions through a redis-server that this script starts on a
# free loopback port with TLS only (rediss://, client certificates required, an ACL user with
# a password, no default user):
#   - two servers with seal keys resume each other's sessions, and no value in Redis holds the
#     session's master key (read back with redis-cli over TLS, compared with `openssl sess_id
#     -text` of the client's session); an unsealed server is the control that shows a master
#     key is found when it is there;
#   - key rotation: a new key put first still opens values sealed with the old one; a server
#     without the new key cannot open what it seals; a value copied to another key does not open;
#   - verification is never skipped: another CA, no client certificate or a wrong password store
#     nothing; bad settings are one stderr line and no fleet mode (never unsealed);
#   - 0-RTT: a TLS 1.3 session with early data, replayed to two `s_server -early_data`, is
#     accepted by the first only, in both orders (control: with -no_anti_replay both accept).
# redis-server missing is a failure, not a skip.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# shellcheck source=scripts/tls-certs.sh
. scripts/tls-certs.sh
CT=target/ct/fleet-security
mkdir -p "$CT"
need_redis
need_preload
D=$(mktemp -d "$PWD/$CT/run.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exec 3>&- || true
  rm -rf "$D"
}
trap cleanup EXIT

# ---- certificates (test CA, Redis's certificate for IP 127.0.0.1, a client certificate) ----
test_ca "$D" ca
test_ca "$D" rogue
test_cert "$D" redis ca 'subjectAltName=IP:127.0.0.1'
test_cert "$D" client ca 'extendedKeyUsage=clientAuth'
test_self_signed "$D" cert
mv "$D/cert.key" "$D/key.pem"
openssl rand -hex 32 >"$D/k1"
openssl rand -hex 32 >"$D/k2"
cp "$D/k1" "$D/keys1"
cat "$D/k2" "$D/k1" >"$D/keys21"

# ---- Redis: TLS only, client certificates required, user "fleet" with a password ----
RPORT=$(free_port)
timeout 600 redis-server --bind 127.0.0.1 --port 0 --tls-port "$RPORT" --tls-cert-file "$D/redis.pem" \
  --tls-key-file "$D/redis.key" --tls-ca-cert-file "$D/ca.pem" --tls-auth-clients yes \
  --save '' --appendonly no --dir "$D" --user default off --user fleet on '>fleet-pw' '~*' '&*' '+@all' \
  >"$D/redis.log" 2>&1 &
PIDS+=($!)
cli() {
  timeout 10 redis-cli --tls --cacert "$D/ca.pem" --cert "$D/client.pem" --key "$D/client.key" \
    -h 127.0.0.1 -p "$RPORT" --user fleet --pass fleet-pw --no-auth-warning "$@"
}
for _ in $(seq 100); do cli ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
cli ping | grep -q PONG || { echo "redis-server (TLS) did not come up"; cat "$D/redis.log"; exit 1; }
echo "redis: $(redis-server --version | cut -d' ' -f3), TLS only on port <port>, client certificates required"

URL="rediss://fleet:fleet-pw@127.0.0.1:$RPORT/0"
# A generous bound: what is tested here is not the wait (fleet-deadline.sh is), and a first TLS
# connection with a client certificate on a loaded 2-core machine can take tens of ms.
WAIT=SESSCACHE_REDIS_TIMEOUT_MS=1000
TLS=(SESSCACHE_REDIS="$URL" SESSCACHE_REDIS_CA="$D/ca.pem" SESSCACHE_REDIS_CERT="$D/client.pem"
  SESSCACHE_REDIS_KEY="$D/client.key" "$WAIT")

# Standard input of the -early_data servers (they cannot use -www): a FIFO held open here.
mkfifo "$D/stdin"
exec 3<>"$D/stdin"

# server NAME NACCEPT [VAR=value ...] -- [s_server args]: s_server under the preload on a free
# loopback port; -www unless the args say -early_data. Sets PORT_<NAME> and PID_<NAME>.
server() {
  local name=$1 n=$2 envs=() port www=-www; shift 2
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  case " $* " in *" -early_data "*) www= ;; esac
  port=$(free_port)
  mkdir -p "$D/$name.stats"
  env LD_PRELOAD="$PRE" SESSCACHE_STATS="$D/$name.stats" "${envs[@]}" timeout 120 openssl s_server \
    -accept "127.0.0.1:$port" -cert "$D/cert.pem" -key "$D/key.pem" $www -naccept "$n" "$@" \
    <"$D/stdin" >"$D/$name.out" 2>"$D/$name.err" &
  PIDS+=($!)
  eval "PORT_$name=$port PID_$name=$!"
  for _ in $(seq 200); do
    grep -q '^ACCEPT' "$D/$name.out" 2>/dev/null && return 0
    kill -0 "$!" 2>/dev/null || break
    sleep 0.05
  done
  echo "s_server $name did not start"; cat "$D/$name.err"; exit 1
}
done_server() { local p; p=$(eval echo "\$PID_$1"); wait "$p" || true; }
# client NAME [s_client args]: one TLS 1.2 connection (-no_ticket servers); its New/Reused line.
client() {
  local port; port=$(eval echo "\$PORT_$1"); shift
  timeout 30 openssl s_client -connect "127.0.0.1:$port" -tls1_2 "$@" </dev/null 2>&1 | grep -E '^(New|Reused), ' | head -n1 || true
}
# redis_line NAME: the server's Redis counters (SESSCACHE_STATS directory) as one line;
# stat_of NAME COUNTER: one of them.
redis_line() { python3 scripts/servers/stats.py lines "$D/$1.stats" | grep '^redis ' || true; }
stat_of() { redis_line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
reused() { [[ "$1" == Reused,* ]]; }
session_id() { openssl sess_id -in "$1" -noout -text | sed -n 's/^ *Session-ID: //p' | tr A-F a-f; }
key_of() { echo "sesscache:01000000:$(session_id "$1")"; }
nkeys() { cli --scan --pattern 'sesscache:*' | wc -l; }

fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }

echo "== rediss:// with seal keys: two servers resume each other's sessions"
server A 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- -no_ticket
server B 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- -no_ticket
a=$(client A -sess_out "$D/s1.pem"); b=$(client B -sess_in "$D/s1.pem")
done_server A; done_server B
echo "A: $a"; echo "B: $b"
echo "A stats: $(redis_line A)"; echo "B stats: $(redis_line B)"
check '[[ "$a" == New,* ]] && reused "$b"' "B resumes A's session through rediss:// with sealed values"
check '[ "$(stat_of A stores)" = 1 ] && [ "$(stat_of B hits)" = 1 ] ' \
  "A stored 1 session in Redis, B hit 1"

echo "== control: a server without seal keys stores the master key as it is"
server P 1 "${TLS[@]}" -- -no_ticket
p=$(client P -sess_out "$D/s0.pem")
done_server P
echo "P: $p"
# holds FILE PEM: whether the value in FILE contains the master key of the session in PEM
# (its bytes, or its hex in either case).
holds() {
  local mk; mk=$(openssl sess_id -in "$2" -noout -text | sed -n 's/^ *Master-Key: //p')
  [ ${#mk} -eq 96 ] || { echo "no master key in $2"; return 2; }
  python3 - "$1" "$mk" <<'PY'
import sys
data, mk = open(sys.argv[1], "rb").read(), sys.argv[2]
sys.exit(0 if any(x in data for x in (bytes.fromhex(mk), mk.lower().encode(), mk.upper().encode())) else 1)
PY
}
cli --raw GET "$(key_of "$D/s0.pem")" >"$D/v0"
check 'holds "$D/v0" "$D/s0.pem"' "unsealed: the value holds the master key (the check below can fail)"

echo "== no value in Redis holds the sealed session's master key"
found=0 n=0
for k in $(cli --scan --pattern 'sesscache:*'); do
  n=$((n + 1)); cli --raw GET "$k" >"$D/v"
  if holds "$D/v" "$D/s1.pem"; then found=$((found + 1)); echo "master key found under $k"; fi
done
echo "$n keys read over TLS"
check '[ "$n" -ge 2 ] && [ "$found" = 0 ]' "no value holds the master key of the sealed session"
check '[ "$(cli --raw GET "$(key_of "$D/s1.pem")" | head -c 3)" = SC1 ]' "the sealed value starts with SC1"

echo "== rotation: the new key first, the old one after"
server C 2 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys21" -- -no_ticket
c=$(client C -sess_in "$D/s1.pem"); c2=$(client C -sess_out "$D/s2.pem")
done_server C
server F 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- -no_ticket
server G 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys21" -- -no_ticket
f=$(client F -sess_in "$D/s2.pem"); g=$(client G -sess_in "$D/s2.pem")
done_server F; done_server G
echo "C (new, old keys): old session $c; new session $c2"
echo "F (old key only): $f; G (new, old): $g"
kid() { python3 -c 'import hashlib,sys; print(hashlib.sha256(b"sesscache seal key id v1\0" + bytes.fromhex(open(sys.argv[1]).read().strip())).hexdigest()[:16])' "$1"; }
head2=$(cli --raw GET "$(key_of "$D/s2.pem")" | head -c 11 | tail -c 8 | od -An -tx1 | tr -d ' \n')
check 'reused "$c"' "a value sealed with the old key opens after the new key is put first"
check '[ "$head2" = "$(kid "$D/k2")" ]' "the new first key seals (key id $head2)"
check '[[ "$f" == New,* ]] && [ "$(stat_of F corrupt)" = 1 ] && reused "$g"' \
  "a server without the new key cannot open it (corrupt=1); one with it can"

echo "== a sealed value copied to another key does not open"
server H 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys21" -- -no_ticket
h0=$(client H -sess_out "$D/s3.pem")
done_server H
cli copy "$(key_of "$D/s2.pem")" "$(key_of "$D/s3.pem")" replace >/dev/null
server I 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys21" -- -no_ticket
i=$(client I -sess_in "$D/s3.pem")
done_server I
echo "I: $i; $(redis_line I)"
check '[[ "$h0" == New,* ]] && [[ "$i" == New,* ]] && [ "$(stat_of I corrupt)" = 1 ]' "moved value: a miss, counted as corrupt"

echo "== verification is never skipped"
before=$(nkeys)
server R 1 "$WAIT" SESSCACHE_REDIS="$URL" SESSCACHE_REDIS_CA="$D/rogue.pem" SESSCACHE_REDIS_CERT="$D/client.pem" \
  SESSCACHE_REDIS_KEY="$D/client.key" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- -no_ticket
server N 1 "$WAIT" SESSCACHE_REDIS="$URL" SESSCACHE_REDIS_CA="$D/ca.pem" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- -no_ticket
server W 1 "${TLS[@]/fleet-pw/wrong-pw}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- -no_ticket
r=$(client R -sess_in "$D/s1.pem"); nn=$(client N -sess_in "$D/s1.pem"); w=$(client W -sess_in "$D/s1.pem")
done_server R; done_server N; done_server W
echo "another CA: $r; $(redis_line R)"
echo "no client certificate: $nn; $(redis_line N)"
echo "wrong password: $w; $(redis_line W)"
check '[[ "$r" == New,* ]] && [ "$(stat_of R errors)" -ge 1 ] && [ "$(stat_of R hits)" = 0 ] && [ "$(stat_of R timeouts)" = 0 ]' "a certificate of another CA is refused"
check '[[ "$nn" == New,* ]] && [ "$(stat_of N errors)" -ge 1 ]' "Redis requires a client certificate: none, nothing read"
check '[[ "$w" == New,* ]] && [ "$(stat_of W errors)" -ge 1 ]' "a wrong password: an error, nothing read"
check '[ "$(nkeys)" = "$before" ]' "none of them stored anything"

echo "== bad settings: one stderr line, no fleet mode"
printf '%s\nnot-a-key\n' "$(cat "$D/k1")" >"$D/badkeys"
server X 1 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/badkeys" -- -no_ticket
server Y 1 SESSCACHE_REDIS="redis://127.0.0.1:$RPORT/0" SESSCACHE_REDIS_CA="$D/ca.pem" -- -no_ticket
x=$(client X); y=$(client Y)
done_server X; done_server Y
cat "$D/X.err" "$D/Y.err"
check '[[ "$x" == New,* ]] && [ "$(grep -c sesscache "$D/X.err")" = 1 ] && grep -q "SESSCACHE_REDIS_SEAL_KEYS: line 2: expected 64 hex" "$D/X.err" && [ -z "$(redis_line X)" ]' \
  "a bad key file: one line naming line 2, fleet mode off"
check '[[ "$y" == New,* ]] && [ "$(grep -c sesscache "$D/Y.err")" = 1 ] && grep -q "not rediss://" "$D/Y.err" && [ -z "$(redis_line Y)" ]' \
  "a CA with a redis:// URL: one line, fleet mode off"
check '! grep -q fleet-pw "$D/X.err" "$D/Y.err"' "no password in the messages"

echo "== 0-RTT: a session with early data is accepted by one server of the fleet"
printf 'GET / HTTP/1.0\r\n\r\n' >"$D/early.txt"
# early NAME [s_client args]: one TLS 1.3 connection; prints New/Reused and the early data line.
early() {
  local port; port=$(eval echo "\$PORT_$1"); shift
  sleep 0.3 | timeout 30 openssl s_client -connect "127.0.0.1:$port" "$@" 2>&1 |
    grep -E '^(New|Reused), |^Early data was' | tr '\n' ' ' || true
}
accepted() { [[ "$1" == Reused,*"Early data was accepted"* ]]; }
for mode in anti-replay no_anti_replay; do
  # -no_anti_replay alone would issue stateless tickets, which B cannot open: -no_ticket keeps
  # them stateful, so both servers can find the session.
  extra=(-early_data); [ "$mode" = no_anti_replay ] && extra+=(-no_anti_replay -no_ticket)
  server EA 4 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- "${extra[@]}"
  server EB 2 "${TLS[@]}" SESSCACHE_REDIS_SEAL_KEYS="$D/keys1" -- "${extra[@]}"
  early EA -sess_out "$D/e1.pem" >/dev/null
  b1=$(early EB -sess_in "$D/e1.pem" -early_data "$D/early.txt")
  a1=$(early EA -sess_in "$D/e1.pem" -early_data "$D/early.txt")
  early EA -sess_out "$D/e2.pem" >/dev/null
  a2=$(early EA -sess_in "$D/e2.pem" -early_data "$D/early.txt")
  b2=$(early EB -sess_in "$D/e2.pem" -early_data "$D/early.txt")
  done_server EA; done_server EB
  echo "$mode: made on A, replayed to B then A: B: $b1| A: $a1"
  echo "$mode: made on A, replayed to A then B: A: $a2| B: $b2"
  echo "$mode: A $(redis_line EA)"; echo "$mode: B $(redis_line EB)"
  if [ "$mode" = anti-replay ]; then
    check 'accepted "$b1" && ! accepted "$a1" && accepted "$a2" && ! accepted "$b2"' \
      "replayed to both servers, early data is accepted by the first only (both orders)"
    check '[ "$(stat_of EA timeouts)" = 0 ] && [ "$(stat_of EB timeouts)" = 0 ] && [ "$(stat_of EA errors)" = 0 ]' \
      "the refusals are the fleet's (no Redis timeout or error)"
  else
    check 'accepted "$b1" && accepted "$a1"' "control, -no_anti_replay: both servers accept the replay"
  fi
done

echo "== 0-RTT where Redis has no GETDEL (renamed away): the atomic script takes it"
R2PORT=$(free_port)
timeout 300 redis-server --bind 127.0.0.1 --port "$R2PORT" --save '' --appendonly no --dir "$D" \
  --rename-command GETDEL "" >"$D/redis2.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do timeout 5 redis-cli -p "$R2PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
server EC 2 "$WAIT" SESSCACHE_REDIS="redis://127.0.0.1:$R2PORT/0" -- -early_data
server ED 1 "$WAIT" SESSCACHE_REDIS="redis://127.0.0.1:$R2PORT/0" -- -early_data
early EC -sess_out "$D/e3.pem" >/dev/null
d1=$(early ED -sess_in "$D/e3.pem" -early_data "$D/early.txt")
c1=$(early EC -sess_in "$D/e3.pem" -early_data "$D/early.txt")
done_server EC; done_server ED
echo "no GETDEL: made on A, replayed to B then A: B: $d1| A: $c1"
echo "no GETDEL: B $(redis_line ED)"
check 'accepted "$d1" && ! accepted "$c1" && [ "$(stat_of ED errors)" = 0 ] && [ "$(stat_of ED hits)" = 1 ]' \
  "without GETDEL the script takes the session: the first server only, no error"
exit $fail
