#!/usr/bin/env bash
# The preload crate's own unit tests (its clippy runs in `make lint`, with the workspace's), and
# its exported symbols against its export list.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
cargo test --release --locked -p sesscache-preload
# The library exports exactly the functions of src/exports/list.rs (build.rs writes the
# version script from that list; this checks the result).
need_preload
diff -u --label preload/src/exports/list.rs --label "nm -D $PRE" \
  <(sed -nE 's/^ *fn ([A-Za-z0-9_]+)\(.*/\1/p' preload/src/exports/list.rs | sort) \
  <(nm -D --defined-only "$PRE" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | sort -u)
echo "$(nm -D --defined-only "$PRE" | awk '$2 != "A"' | wc -l) exported functions, as listed in preload/src/exports/list.rs"
