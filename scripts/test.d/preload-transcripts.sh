#!/usr/bin/env bash
# Programs linked against the system libssl print the same transcript with and without
# libsesscache_preload.so: the cache API without handshakes (c_tests/transcript.c), real TLS 1.2
# handshake scenarios (c_tests/handshakes_real.c) and a server with its own get/new/remove
# callbacks over TLS 1.2 and 1.3 (c_tests/preload/ext_server.c). Compared byte for byte.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
CT=target/ct/preload
mkdir -p "$CT"
need_preload
fail=0
for src in c_tests/transcript.c c_tests/handshakes_real.c c_tests/preload/ext_server.c c_tests/preload/reentrant_cb.c; do
  name=$(basename "$src" .c)
  # shellcheck disable=SC2086
  $CC $CFLAGS -Ic_tests -o "$CT/$name" "$src" -lssl -lcrypto
  timeout 60 "$CT/$name" >"$CT/$name.libssl.txt"
  rm -rf "$CT/$name.stats"; mkdir "$CT/$name.stats"
  if SESSCACHE_STATS=$PWD/$CT/$name.stats timeout 60 env LD_PRELOAD="$PRE" "$CT/$name" >"$CT/$name.preload.txt" &&
     diff -u "$CT/$name.libssl.txt" "$CT/$name.preload.txt"; then
    echo "$name: $(wc -l <"$CT/$name.libssl.txt") lines identical"
  else
    echo "$name: transcripts differ"; fail=1
  fi
  # The preload was really in the process: a program that handshakes wrote the statistics of
  # its contexts; one that never accepted nor connected (transcript.c, reentrant_cb.c: the
  # cache API alone) wrote nothing.
  lines=$(python3 scripts/servers/stats.py lines "$CT/$name.stats")
  if [ "$name" = handshakes_real ] || [ "$name" = ext_server ]; then
    echo "$lines" | grep -q '^ctx=1 ' || { echo "$name: no SESSCACHE_STATS file"; fail=1; }
  else
    [ -z "$lines" ] || { echo "$name: never handshakes, yet wrote statistics"; fail=1; }
  fi
done
exit $fail
