#!/usr/bin/env bash
# Every function declared in include/sesscache.h carries its contract: a doc comment (from the
# `///` docs in src/ffi) immediately above it, which states thread safety ("Thread") and what
# NULL or failure returns ("NULL", or "Never fails").
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
awk '
  /^\/\*\*/            { doc = ""; indoc = 1 }
  indoc                { doc = doc $0 "\n"; if ($0 ~ /\*\//) { indoc = 0; last = NR } ; next }
  /^[A-Za-z_][A-Za-z0-9_ *]*[ *][A-Za-z_][A-Za-z0-9_]*\(/ && !/^typedef/ {
    name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
    n++
    if (last != NR - 1) { print "no doc comment: " name; bad++; next }
    if (doc !~ /Thread/) { print "no thread-safety note: " name; bad++ }
    if (doc !~ /NULL|Never fails/) { print "no NULL/failure behaviour: " name; bad++ }
  }
  { if (!indoc && $0 !~ /^\/\*\*/) doc = doc }
  END {
    if (n == 0) { print "no function declarations found"; exit 1 }
    if (bad) { print bad " problems in " n " declarations"; exit 1 }
    print n " functions, each with a doc comment stating thread safety and NULL/failure behaviour"
  }' include/sesscache.h
