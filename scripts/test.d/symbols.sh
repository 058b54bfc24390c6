#!/usr/bin/env bash
# Exported symbols == the documented API. The single list is the API table in docs/api.md
# ("## Exported functions": the backquoted names in the second column of each row). This checks that
#   - `nm -D --defined-only target/release/libsesscache.so` exports exactly those functions
#     (rustc exports exactly the #[no_mangle] functions of a cdylib);
#   - include/sesscache.h declares exactly those functions;
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
SO=$REL/libsesscache.so
OUT=target/ct/symbols
mkdir -p "$OUT"

# The API table: rows between "## Exported functions" and the next heading, names in column 2.
API=docs/api.md
awk '/^## Exported functions/ { on = 1; next } on && /^#/ { exit } on && /^\|/ { print }' "$API" |
  awk -F'|' 'NF >= 4 { print $3 }' | grep -o '`[A-Za-z_][A-Za-z0-9_]*`' | tr -d '`' | sort >"$OUT/readme.txt"
[ -s "$OUT/readme.txt" ] || { echo "no API table found in $API"; exit 1; }
if [ -n "$(uniq -d "$OUT/readme.txt")" ]; then echo "listed twice in $API:"; uniq -d "$OUT/readme.txt"; exit 1; fi

# Defined dynamic symbols, without the version nodes (type A) and any @VERSION suffix.
nm -D --defined-only "$SO" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u >"$OUT/nm.txt"
# Function declarations in the header: `<type> name(args);` at the start of a line.
grep -oE '^[A-Za-z_][A-Za-z0-9_ *]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(' include/sesscache.h | grep -v typedef |
  sed -E 's/.*[ *]([A-Za-z_][A-Za-z0-9_]*)\($/\1/' | sort >"$OUT/header.txt"

rc=0
diff -u --label "$API" --label "nm -D $SO" "$OUT/readme.txt" "$OUT/nm.txt" || rc=1
diff -u --label "$API" --label include/sesscache.h "$OUT/readme.txt" "$OUT/header.txt" || rc=1

[ "$rc" -eq 0 ] && echo "$(wc -l <"$OUT/nm.txt") exported symbols, equal to $API's API table and the header"
exit "$rc"
