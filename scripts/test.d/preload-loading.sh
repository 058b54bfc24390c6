#!/usr/bin/env bash
# However a program loads libssl, the preload finds the libssl that calls it and either manages
# that libssl's cache exactly as libssl would, or stands aside with one stderr line; and a
# program that never loads libssl does not notice it. Every case compares the transcript of a
# run with the preload to the same run without it, byte for byte:
#   - c_tests/preload/dl_tls.c opens a module linked with libssl (as CPython, Perl, Lua and Tcl
#     open theirs) with RTLD_LOCAL, RTLD_GLOBAL and RTLD_DEEPBIND; late, after a first call of
#     the preload with no libssl loaded; two copies of libssl in one process; and libssl's own
#     functions through dlsym: TLS 1.2 and 1.3 resumption, early data and its replay, the
#     server's statistics;
#   - deepbind_caller.c lets a library opened with RTLD_DEEPBIND change a context's mode and
#     new-session callback behind the preload, which must notice and adopt them;
#   - python3's ssl module and Perl's Net::SSLeay: in-memory handshakes with resumption;
#   - a copy of libssl with DF_SYMBOLIC set (it binds its calls inside itself, as OpenSSL's own
#     -Bsymbolic build does): the preload says so once and stands aside, under dl_tls and under
#     openssl s_server/s_client (5 TLS 1.2 resumptions, the same statistics);
#   - `ls`, `bash -c true` and `python3 -c` under the preload: no output, no thread.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/preload-loading
SYSSSL=$($CC -print-file-name=libssl.so.3)
need_preload
perl -MNet::SSLeay -e1 2>/dev/null || { echo "Net::SSLeay is not installed (apt-get install libnet-ssleay-perl)"; exit 1; }
rm -rf "$CT"
mkdir -p "$CT/sym"
D=$PWD/$CT
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; true; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
  -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
# A second copy of the system libssl under another soname, and one with DF_SYMBOLIC.
python3 scripts/elf_patch.py "$SYSSSL" "$D/libsss.so.3" --soname libsss.so.3
python3 scripts/elf_patch.py "$SYSSSL" "$D/sym/libssl.so.3" --symbolic
# shellcheck disable=SC2086
{
  $CC $CFLAGS -shared -fPIC -o "$D/tls_module.so" c_tests/preload/tls_module.c -lssl -lcrypto
  $CC $CFLAGS -shared -fPIC -o "$D/tls_module_copy.so" c_tests/preload/tls_module.c -L"$D" -l:libsss.so.3 -lcrypto \
    -Wl,-rpath,'$ORIGIN'
  $CC $CFLAGS -o "$D/dl_tls" c_tests/preload/dl_tls.c
  $CC $CFLAGS -shared -fPIC -o "$D/deepbind_lib.so" c_tests/preload/deepbind_lib.c -lssl -lcrypto
  $CC $CFLAGS -o "$D/deepbind_caller" c_tests/preload/deepbind_caller.c -lssl -lcrypto
}

fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi; }
# same NAME CMD...: runs CMD without and with the preload (SESSCACHE_LOG=1, stderr kept apart);
# the two transcripts must be equal and end with "done" (or be a known-good transcript).
same() {
  local name=$1; shift
  timeout 60 "$@" >"$D/$name.base" 2>"$D/$name.base.err" || { echo "$name: failed without the preload"; cat "$D/$name.base" "$D/$name.base.err"; fail=1; return; }
  timeout 60 env LD_PRELOAD="$PRE" SESSCACHE_LOG=1 "$@" >"$D/$name.pre" 2>"$D/$name.err" ||
    { echo "$name: failed with the preload"; cat "$D/$name.pre" "$D/$name.err"; fail=1; return; }
  if diff -u "$D/$name.base" "$D/$name.pre"; then
    echo "$name: $(wc -l <"$D/$name.base") lines identical"
  else
    echo "FAILED: $name: transcripts differ"; fail=1
  fi
}
managed() { grep -c " new libssl=[^ ]*/$2 " "$D/$1.err" || true; }
lines() { grep -c "$2" "$D/$1.err" || true; }

for m in local global late two direct tls12-mode=0x202; do
  same "$m" "$D/dl_tls" "$D/cert.pem" "$D/key.pem" "$m" "$D"
done
sed 's/^/    /' "$D/local.base"
check '[ "$(managed local libssl.so.3)" -ge 1 ] && [ "$(lines local " hit version=0x0303")" = 1 ]' \
  "RTLD_LOCAL: the preload manages the module's libssl (a TLS 1.2 hit in its cache)"
check '[ "$(managed global libssl.so.3)" -ge 1 ]' "RTLD_GLOBAL: managed"
check '[ "$(lines late "no libssl is loaded")" = 1 ] && [ "$(managed late libssl.so.3)" -ge 1 ]' \
  "late: one line for the call made before libssl was loaded, then managed, and never a cached failure"
check '[ "$(managed two libssl.so.3)" -ge 1 ] && [ "$(managed two libsss.so.3)" -ge 1 ] && grep -q "^two: two libssl objects" "$D/two.base"' \
  "two copies of libssl in one process: each managed, each its own"
check '[ "$(managed direct libssl.so.3)" -ge 1 ]' "functions from dlsym(libssl): libssl's own calls reach the preload"

same deepbind "$D/dl_tls" "$D/cert.pem" "$D/key.pem" deepbind "$D"
check '[ ! -s "$D/deepbind.err" ]' "RTLD_DEEPBIND module: nothing reaches the preload, which stays silent"

same bypass "$D/deepbind_caller" "$D/cert.pem" "$D/key.pem" "$D"
cat "$D/bypass.base"
check 'grep -q "^deepbind: first=new second=reused new_cb_calls=2 client_mode=0x1 .* mode=0x82" "$D/bypass.base"' \
  "a library loaded with RTLD_DEEPBIND sets mode and callback: sessions are still stored, the program reads the new mode"
check '[ "$(lines bypass "bypassed the preload")" = 1 ]' "the bypass is said once on stderr"

same python python3 c_tests/preload/ssl_memory.py "$D/cert.pem" "$D/key.pem"
sed 's/^/    /' "$D/python.base"
check '[ "$(managed python libssl.so.3)" -ge 1 ] && [ "$(lines python " hit version=")" = 2 ]' \
  "python3's ssl (RTLD_LOCAL): managed, the two stateful resumptions are cache hits"
same perl perl c_tests/preload/ssleay_memory.pl "$D/cert.pem" "$D/key.pem"
check '[ "$(managed perl libssl.so.3)" -ge 1 ] && [ "$(lines perl " hit version=")" = 2 ]' \
  "Perl Net::SSLeay (RTLD_LOCAL): managed, two cache hits"

# DF_SYMBOLIC: the module's libssl.so.3 comes from $D/sym.
for m in local global late; do
  same "sym-$m" env LD_LIBRARY_PATH="$D/sym" "$D/dl_tls" "$D/cert.pem" "$D/key.pem" "$m" "$D"
  check '[ "$(lines sym-$m "binds its own calls inside itself")" = 1 ] && [ "$(lines sym-$m " new libssl=")" = 0 ]' \
    "DF_SYMBOLIC libssl ($m): one stderr line, the preload stands aside (early data: $(grep -o 'early=[a-z]*' "$D/sym-$m.base" | head -n1))"
done

# The same libssl under openssl s_server -www (stdin unused: it exits after 6 connections and
# prints its statistics) and s_client -reconnect (1 + 5 connections, TLS 1.2 session ids).
for pre in "" 1; do
  tag=symserver${pre:+-pre}
  port=$(free_port)
  env LD_LIBRARY_PATH="$D/sym" ${pre:+LD_PRELOAD="$PRE"} timeout 60 openssl s_server -accept "127.0.0.1:$port" \
    -cert "$D/cert.pem" -key "$D/key.pem" -no_ticket -www -naccept 6 </dev/null >"$D/$tag" 2>"$D/$tag.err" &
  SPID=$!
  for _ in $(seq 200); do grep -q '^ACCEPT' "$D/$tag" 2>/dev/null && break; sleep 0.05; done
  env LD_LIBRARY_PATH="$D/sym" timeout 30 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -reconnect \
    </dev/null >"$D/$tag.cli" 2>&1 || true
  wait "$SPID" || true
  SPID=
  sed -n '/items in the session cache/,/cache full overflows/p' "$D/$tag" >"$D/$tag.stats"
done
check '[ "$(grep -c "^Reused, TLSv1.2" "$D/symserver.cli")" = 5 ] && [ "$(grep -c "^Reused, TLSv1.2" "$D/symserver-pre.cli")" = 5 ]' \
  "DF_SYMBOLIC libssl under s_server: 5 resumptions with and without the preload"
check 'diff -u "$D/symserver.stats" "$D/symserver-pre.stats"' "DF_SYMBOLIC libssl under s_server: the same statistics"
check '[ "$(grep -c "binds its own calls inside itself" "$D/symserver-pre.err")" = 1 ]' "DF_SYMBOLIC libssl under s_server: one stderr line"

# Programs that never load libssl: nothing printed, the same output, no thread.
for cmd in "ls /" "bash -c true" "python3 -c print(1)"; do
  # shellcheck disable=SC2086
  base=$($cmd 2>&1); pre=$(LD_PRELOAD="$PRE" $cmd 2>&1)
  check '[ "$base" = "$pre" ]' "\`$cmd\` under the preload: the same output, nothing on stderr"
done
threads='import os; print(len(os.listdir("/proc/self/task")))'
check '[ "$(python3 -c "$threads")" = "$(LD_PRELOAD="$PRE" python3 -c "$threads")" ]' "no thread of the preload's in a process without libssl"
exit $fail
