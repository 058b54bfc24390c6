#!/usr/bin/env bash
# `make install` into a temporary DESTDIR, then build and run an example through pkg-config
# against the installed copy only (shared, and static with `pkg-config --static`), then
# `make uninstall` must leave no file of ours behind.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
OUT=target/ct/install
rm -rf "$OUT"
mkdir -p "$OUT"
DESTDIR=$(cd "$OUT" && pwd)/root
PREFIX=/usr/local # the default; the files land in $DESTDIR$PREFIX
LIB=$DESTDIR$PREFIX/lib
unset LD_LIBRARY_PATH LD_PRELOAD
make() { command make -s --no-print-directory "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

make install DESTDIR="$DESTDIR"
soname=$(make print-soname)
version=$(make print-version)
(cd "$DESTDIR" && find . ! -type d | sort) >"$OUT/installed.txt"
echo "installed into DESTDIR:"; sed 's/^\./  /' "$OUT/installed.txt"
want="./usr/local/include/sesscache.h
./usr/local/lib/libsesscache.a
./usr/local/lib/libsesscache.so
./usr/local/lib/$soname
./usr/local/lib/libsesscache.so.$version
./usr/local/lib/pkgconfig/sesscache.pc"
[ -f "$REL/libsesscache_preload.so" ] && want="$want
./usr/local/lib/libsesscache_preload.so"
diff -u <(sort <<<"$want") "$OUT/installed.txt" || fail "installed files differ from the expected list"
[ "$(readlink "$LIB/libsesscache.so")" = "$soname" ] || fail "libsesscache.so does not point to $soname"
[ "$(readlink "$LIB/$soname")" = "libsesscache.so.$version" ] || fail "$soname does not point to the real file"
[ -f "$LIB/libsesscache.so.$version" ] && [ ! -L "$LIB/libsesscache.so.$version" ] || fail "no real file"
grep -qx "prefix=$PREFIX" "$LIB/pkgconfig/sesscache.pc" || fail "sesscache.pc: prefix is not $PREFIX"

# pkg-config sees only the DESTDIR tree: the sysroot maps the .pc's /usr/local into it.
export PKG_CONFIG_PATH="$LIB/pkgconfig" PKG_CONFIG_LIBDIR="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DESTDIR"
flags=$(pkg-config --cflags --libs sesscache)
static=$(pkg-config --static --libs sesscache)
echo "pkg-config --modversion sesscache: $(pkg-config --modversion sesscache)"
echo "pkg-config --cflags --libs sesscache: $flags"
echo "pkg-config --static --libs sesscache: $static"
[ "$(pkg-config --modversion sesscache)" = "$version" ] || fail "pkg-config --modversion"
for f in $flags; do
  case $f in -I* | -L*) case ${f:2} in "$DESTDIR"/*) ;; *) fail "$f points outside DESTDIR" ;; esac ;; esac
done

# Shared: compiled with the installed header, linked and run with the installed library only
# (rpath into the DESTDIR; no -Iinclude, no -Ltarget/release, no LD_LIBRARY_PATH).
# shellcheck disable=SC2086
$CC $CFLAGS -o "$OUT/stats" examples/stats.c $flags -Wl,-rpath,"$LIB"
needed=$(readelf -d "$OUT/stats" | sed -n 's/.*Shared library: \[\(libsesscache[^]]*\)\].*/\1/p')
[ "$needed" = "$soname" ] || fail "the program needs '$needed', not the soname $soname"
resolved=$(ldd "$OUT/stats" | awk -v s="$soname" '$1 == s { print $3 }')
echo "resolved at run time: $soname => $resolved"
[ "$resolved" = "$LIB/$soname" ] || fail "$soname resolves to '$resolved', not the installed copy"
"$OUT/stats" >"$OUT/stats.txt" || { cat "$OUT/stats.txt"; fail "examples/stats.c against the installed library"; }
tail -n1 "$OUT/stats.txt" | grep -qx ok || fail "examples/stats.c did not finish"

# Static: libsesscache.a plus Libs.private must be enough to link.
# shellcheck disable=SC2086
$CC $CFLAGS -o "$OUT/stats_static" examples/stats.c $(pkg-config --cflags sesscache) \
  ${static/-lsesscache/-l:libsesscache.a}
readelf -d "$OUT/stats_static" | grep -q 'libsesscache' && fail "the static build still needs libsesscache.so"
"$OUT/stats_static" >/dev/null || fail "the statically linked example failed"
echo "static link with Libs.private: ok"

make uninstall DESTDIR="$DESTDIR"
left=$(cd "$DESTDIR" && find . ! -type d)
[ -z "$left" ] || { echo "left behind by make uninstall:"; echo "$left"; fail "uninstall"; }
echo "make uninstall removed all $(wc -l <"$OUT/installed.txt") installed files"
