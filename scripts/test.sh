#!/usr/bin/env bash
# Runs every test of `make test` and ends with one summary line: "N passed, M failed".
# Each check is a named step; a failing step prints its log and the run goes on.
set -u
. "$(dirname "$0")/common.sh"
CT=target/ct
mkdir -p "$CT"
pass=0
fail=0
failed=()

step() { # step NAME COMMAND...
  local name=$1; shift
  local log="$CT/$name.log"
  if "$@" >"$log" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name"; tail -n 40 "$log" | sed 's/^/     /'
  fi
}

# Builds a C program against the system <openssl/ssl.h>, linked with the real libssl.
cc_openssl() { $CC $CFLAGS -o "$CT/$1" "${@:2}" -lssl -lcrypto; }
# The same source, linked with libsesscache only (no -lssl, no -lcrypto).
cc_sesscache() { $CC $CFLAGS -o "$CT/$1" "${@:2}" -L$REL -lsesscache; }
# A program written against our header.
cc_ours() { $CC $CFLAGS -Iinclude -o "$CT/$1" "${@:2}" -L$REL -lsesscache; }
run_ours() { LD_LIBRARY_PATH=$REL "$@"; }

# Runs two commands and requires byte-identical stdout; keeps both transcripts.
same_transcript() { # NAME CMD_A -- CMD_B
  local name=$1; shift
  local a=() b=()
  while [ "$1" != "--" ]; do a+=("$1"); shift; done; shift; b=("$@")
  "${a[@]}" >"$CT/$name.openssl.txt" || return 1
  "${b[@]}" >"$CT/$name.sesscache.txt" || return 1
  diff -u "$CT/$name.openssl.txt" "$CT/$name.sesscache.txt" || return 1
  echo "$(wc -l <"$CT/$name.openssl.txt") lines identical"
}

# make lint: format, clippy, rustdoc, header drift, layering.
step lint make -s --no-print-directory lint
step cargo-test cargo test --release --locked -p sesscache

# Transcript: the cache API without handshakes, OpenSSL vs sesscache (linked, and preloaded).
build_transcript() { cc_openssl transcript_openssl c_tests/transcript.c && cc_sesscache transcript_sesscache c_tests/transcript.c; }
step build-transcript build_transcript
step transcript-linked same_transcript transcript "$CT/transcript_openssl" -- env LD_LIBRARY_PATH=$REL "$CT/transcript_sesscache"
step transcript-preloaded same_transcript transcript_preload "$CT/transcript_openssl" -- env LD_PRELOAD=$REL/libsesscache.so "$CT/transcript_openssl"
divergence_empty_id() {
  SESSCACHE_SHOW_DIVERGENCES=1 "$CT/transcript_openssl" | grep -q '^add(c31)=1 number=3 cache_full=0' &&
  SESSCACHE_SHOW_DIVERGENCES=1 LD_LIBRARY_PATH=$REL "$CT/transcript_sesscache" | grep -q '^add(c31)=1 number=1 cache_full=2'
}
step divergence-empty-id-eviction divergence_empty_id

# Handshakes: real TLS 1.2 with OpenSSL vs the sesscache_ driver, same scenarios.
build_handshakes() { cc_openssl handshakes_real c_tests/handshakes_real.c && cc_sesscache handshakes_driver c_tests/handshakes.c; }
step build-handshakes build_handshakes
step handshakes same_transcript handshakes "$CT/handshakes_real" -- env LD_LIBRARY_PATH=$REL "$CT/handshakes_driver"

# C tests written against include/sesscache.h.
for src in c_tests/test_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  step "build-$name" cc_ours "$name" "$src"
  step "$name" run_ours "$CT/$name"
done

# Extra suites other parts of the tree register (preload, fleet, install, ...).
for t in scripts/test.d/*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  step "$name" bash "$t"
done

echo
if [ "$fail" -gt 0 ]; then echo "failed: ${failed[*]}"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
