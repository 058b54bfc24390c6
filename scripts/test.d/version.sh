#!/usr/bin/env bash
# One version, from Cargo.toml, everywhere: the header's SESSCACHE_VERSION and
# SESSCACHE_VERSION_NUMBER, sesscache_version() of the built library, its soname, the
# Makefile's install names and sesscache.pc's Version.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
OUT=target/ct/version
mkdir -p "$OUT"
rc=0
check() { # WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "ok   $1 = $2"; else echo "FAIL $1 = '$2', want '$3'"; rc=1; fi
}

v=$(awk '/^\[package\]/ { p = 1; next } /^\[/ { p = 0 } p && /^version *=/ { gsub(/.*= *"|".*/, ""); print; exit }' Cargo.toml)
[[ "$v" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]] || { echo "Cargo.toml version '$v' is not MAJOR.MINOR.PATCH"; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}
number=$(printf '0x%06x' $(((major << 16) | (minor << 8) | patch)))
if [ "$major" = 0 ]; then soname=libsesscache.so.0.$minor; else soname=libsesscache.so.$major; fi
echo "Cargo.toml: $v"

check "header SESSCACHE_VERSION" "$(sed -n 's/^#define SESSCACHE_VERSION "\(.*\)"$/\1/p' include/sesscache.h)" "$v"
check "header SESSCACHE_VERSION_NUMBER" "$(sed -n 's/^#define SESSCACHE_VERSION_NUMBER \(.*\)$/\1/p' include/sesscache.h)" "$number"

cat >"$OUT/version.c" <<'C'
#include <sesscache.h>
#include <stdio.h>
int main(void)
{
    printf("%s %s 0x%06x\n", sesscache_version(), SESSCACHE_VERSION, (unsigned)SESSCACHE_VERSION_NUMBER);
    return 0;
}
C
$CC -Wall -Wextra -Werror -Iinclude -o "$OUT/version" "$OUT/version.c" -L$REL -lsesscache
read -r lib hdr num < <(LD_LIBRARY_PATH=$REL "$OUT/version")
check "sesscache_version()" "$lib" "$v"
check "SESSCACHE_VERSION as compiled" "$hdr" "$v"
check "SESSCACHE_VERSION_NUMBER as compiled" "$num" "$number"

check "soname of $REL/libsesscache.so" \
  "$(readelf -d $REL/libsesscache.so | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')" "$soname"
check "make print-soname" "$(make -s --no-print-directory print-soname)" "$soname"
check "make print-version" "$(make -s --no-print-directory print-version)" "$v"

make -s --no-print-directory pc
check "sesscache.pc Version" "$(sed -n 's/^Version: *//p' $REL/sesscache.pc)" "$v"
exit "$rc"
