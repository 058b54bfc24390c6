#!/usr/bin/env bash
# Builds every examples/*.c against include/sesscache.h and target/release, runs it, and
# requires exit status 0 (each example checks its own expectations) and some output.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
OUT=target/ct/examples
mkdir -p "$OUT"
n=0
for src in examples/*.c; do
  name=$(basename "$src" .c)
  # shellcheck disable=SC2086
  $CC $CFLAGS -Iinclude -o "$OUT/$name" "$src" -L$REL -lsesscache
  if ! LD_LIBRARY_PATH=$REL "$OUT/$name" >"$OUT/$name.txt"; then
    echo "examples/$name.c failed; its output:"; cat "$OUT/$name.txt"; exit 1
  fi
  [ -s "$OUT/$name.txt" ] || { echo "examples/$name.c printed nothing"; exit 1; }
  echo "ok examples/$name.c ($(wc -l <"$OUT/$name.txt") lines)"
  n=$((n + 1))
done
[ "$n" -ge 4 ] || { echo "expected at least 4 examples, found $n"; exit 1; }
echo "$n examples built and run"
