#!/usr/bin/env bash
# The reliability gates (`make check`, `make check-ci`): Miri, the C programs under ASan+UBSan
# and under valgrind, the stress test natively and under ThreadSanitizer, the seeded ABI fuzzer
# and core model, and the cargo-fuzz targets. Ends with the figures and "N passed, M failed".
#
#   scripts/check.sh full    # make check: every gate at full length
#   scripts/check.sh ci      # make check-ci: bounded (each fuzzer 60 s, stress 30 s)
#   scripts/check.sh tools   # make check-tools: only say which tools are missing
#
# Needs the nightly named in rust-toolchain.toml with miri and rust-src, cargo-fuzz, valgrind
# and gcc's sanitizer runtimes (.ci/run installs them); a gate whose tool is missing fails with
# the name of the tool and the command that installs it. Durations can be overridden with
# CHECK_FUZZ_SECS and CHECK_STRESS_SECS.
set -u
. "$(dirname "$0")/common.sh"
MODE=${1:-full}
case "$MODE" in
  full) FUZZ_SECS=${CHECK_FUZZ_SECS:-300}; STRESS_SECS=${CHECK_STRESS_SECS:-120}; MODEL_SEQS=20000 ;;
  ci)   FUZZ_SECS=${CHECK_FUZZ_SECS:-60};  STRESS_SECS=${CHECK_STRESS_SECS:-30};  MODEL_SEQS=3000 ;;
  tools) ;;
  *) echo "usage: $0 full|ci|tools" >&2; exit 2 ;;
esac
STRESS_OPS=1000000
OUT=target/check
mkdir -p "$OUT/asan" "$OUT/plain"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
HOST=$(rustc -vV | sed -n 's/^host: //p')
# The gates' nightly: the one rust-toolchain.toml names.
NIGHTLY=$(sed -n 's/^# nightly = "\(.*\)"$/\1/p' rust-toolchain.toml)
pass=0
fail=0
failed=()
started=$(date +%s)

# ---- What the gates need ---------------------------------------------------------------------
has_nightly() { rustup toolchain list 2>/dev/null | grep -q "^$NIGHTLY\(-\| \|$\)"; }
# missing TOOL...: for each tool that is not installed, one line naming it and the command that
# installs it; false when any is missing.
missing() {
  local out rc=0
  out=$(missing_lines "$@") || rc=1
  [ -z "$out" ] || printf '%s\n' "$out" | awk '!seen[$0]++'
  return $rc
}
missing_lines() {
  local t rc=0 gcc_major
  for t in "$@"; do
    case $t in
      nightly)
        has_nightly ||
          { echo "missing: the $NIGHTLY toolchain: rustup toolchain install $NIGHTLY --profile minimal --component miri,rust-src"; rc=1; } ;;
      miri | rust-src)
        if ! has_nightly; then
          missing_lines nightly || rc=1
        elif ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q "^$t"; then
          echo "missing: $t for $NIGHTLY: rustup component add --toolchain $NIGHTLY $t"; rc=1
        fi ;;
      cargo-fuzz)
        command -v cargo-fuzz >/dev/null ||
          { echo "missing: cargo-fuzz: cargo install cargo-fuzz --locked"; rc=1; } ;;
      valgrind)
        command -v valgrind >/dev/null || { echo "missing: valgrind: apt-get install valgrind"; rc=1; } ;;
      sanitizers)
        gcc_major=$($CC -dumpversion 2>/dev/null | cut -d. -f1)
        echo 'int main(void){return 0;}' | $CC -x c -fsanitize=address,undefined -o /dev/null - >/dev/null 2>&1 ||
          { echo "missing: gcc's ASan and UBSan runtimes: apt-get install libgcc-${gcc_major:-12}-dev"; rc=1; } ;;
    esac
  done
  return $rc
}

step() { # step NAME [NEEDS TOOL... --] COMMAND...
  local name=$1; shift
  local log="$OUT/$name.log" t0 needs=()
  if [ "$1" = NEEDS ]; then
    shift
    while [ "$1" != "--" ]; do needs+=("$1"); shift; done
    shift
  fi
  t0=$(date +%s)
  if ! missing "${needs[@]}" >"$log" 2>&1; then
    fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (not run)"
    sed 's/^/     /' "$log"
  elif "$@" >"$log" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name ($(( $(date +%s) - t0 )) s)"
  else
    fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name ($(( $(date +%s) - t0 )) s)"
    tail -n 40 "$log" | sed 's/^/     /'
  fi
}

if ! missing nightly miri rust-src cargo-fuzz valgrind sanitizers >"$OUT/missing.txt"; then
  echo "Some gates cannot run here:"; sed 's/^/  /' "$OUT/missing.txt"
  [ "$MODE" = tools ] && exit 1
fi
if [ "$MODE" = tools ]; then echo "every tool of the gates is installed ($NIGHTLY with miri and rust-src)"; exit 0; fi

# ---- Miri: the core's unit tests and the Rust tests that call the ABI ----------------------
# Isolation is off for the clock (time::now) and getrandom; sizes shrink under cfg(miri).
# The Redis client (feature `redis`) talks to sockets, which Miri cannot run: left out.
miri() {
  MIRIFLAGS="-Zmiri-disable-isolation ${MIRIFLAGS:-}" \
    timeout 1500 cargo "+$NIGHTLY" miri test --locked -p sesscache --no-default-features --features capi --lib --test core_model --test abi_fuzz --test stress
}
step miri NEEDS nightly miri rust-src -- miri

# ---- The C programs under ASan+UBSan, then under valgrind ----------------------------------
step build-lib make -s lib
C_PROGS=()
for src in c_tests/test_*.c; do C_PROGS+=("$(basename "$src" .c)"); done

# build_c DIR EXTRA_CFLAGS: every C test, the transcript and the handshake driver.
build_c() {
  local dir=$1 extra=$2 p
  for p in "${C_PROGS[@]}"; do
    $CC $CFLAGS $extra -Iinclude -o "$dir/$p" "c_tests/$p.c" -L$REL -lsesscache || return 1
  done
  $CC $CFLAGS $extra -o "$dir/transcript" c_tests/transcript.c -L$REL -lsesscache || return 1
  $CC $CFLAGS $extra -o "$dir/handshakes" c_tests/handshakes.c -L$REL -lsesscache || return 1
}
# run_all DIR WRAPPER...: runs each program; all must exit 0.
run_all() {
  local dir=$1 p st=0; shift
  for p in "${C_PROGS[@]}" transcript handshakes; do
    echo "== $p"
    if ! LD_LIBRARY_PATH=$REL timeout 600 "$@" "$dir/$p" >"$dir/$p.out"; then
      echo "FAILED: $p"; tail -n 20 "$dir/$p.out"; st=1
    fi
  done
  return $st
}
step build-c-asan NEEDS sanitizers -- build_c "$OUT/asan" "$SAN"
run_asan() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_all "$OUT/asan"
}
step c-asan-ubsan NEEDS sanitizers -- run_asan
step build-c-plain build_c "$OUT/plain" ""
step c-valgrind NEEDS valgrind -- run_all "$OUT/plain" valgrind -q --error-exitcode=1 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect

# ---- Stress: >= 1 M operations on 4 threads, natively and under TSan -----------------------
stress_native() {
  SESSCACHE_STRESS_OPS=$STRESS_OPS SESSCACHE_STRESS_SECS=$STRESS_SECS \
    timeout $((STRESS_SECS * 3 + 300)) cargo test --release --locked -p sesscache --test stress -- --nocapture
}
step stress stress_native
stress_tsan() {
  RUSTFLAGS="-Zsanitizer=thread" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    SESSCACHE_STRESS_OPS=$STRESS_OPS SESSCACHE_STRESS_SECS=$STRESS_SECS \
    timeout $((STRESS_SECS * 6 + 1200)) cargo "+$NIGHTLY" test -Zbuild-std --target "$HOST" --target-dir target/tsan \
    --release -p sesscache --test stress -- --nocapture
}
step stress-tsan NEEDS nightly rust-src -- stress_tsan

# ---- The seeded fuzzers: the ABI model and the core model ----------------------------------
abi_seeded() {
  SESSCACHE_ABI_FUZZ_SECS=$FUZZ_SECS timeout $((FUZZ_SECS + 300)) \
    cargo test --release --locked -p sesscache --test abi_fuzz -- --nocapture
}
step abi-fuzz abi_seeded
core_seeded() {
  SESSCACHE_MODEL_SEQS=$MODEL_SEQS timeout 900 cargo test --release --locked -p sesscache --test core_model -- --nocapture
}
step core-model core_seeded

# ---- cargo-fuzz (libFuzzer + ASan) ---------------------------------------------------------
fuzz() { # fuzz TARGET
  mkdir -p "fuzz/corpus/$1"
  (cd fuzz && timeout $((FUZZ_SECS + 900)) cargo "+$NIGHTLY" fuzz run "$1" -- \
    -max_total_time="$FUZZ_SECS" -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1)
}
step fuzz-core-ops NEEDS nightly cargo-fuzz -- fuzz core_ops
step fuzz-abi NEEDS nightly cargo-fuzz -- fuzz abi
step fuzz-d2i NEEDS nightly cargo-fuzz -- fuzz d2i

# ---- Figures ---------------------------------------------------------------------------------
seeded=$(sed -n 's/^abi-fuzz-calls //p' "$OUT/abi-fuzz.log" | tail -n1)
libfuzzer=$(sed -n 's/^abi: \([0-9]*\) calls.*/\1/p' "$OUT/fuzz-abi.log" | tail -n1)
runs_core=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz-core-ops.log" | tail -n1)
runs_abi=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz-abi.log" | tail -n1)
runs_d2i=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz-d2i.log" | tail -n1)
stress=$(grep -h '^stress: ' "$OUT/stress.log" | tail -n1)
stress_tsan=$(grep -h '^stress: ' "$OUT/stress-tsan.log" | tail -n1)
races=$(grep -c 'WARNING: ThreadSanitizer' "$OUT/stress-tsan.log")
{
  echo "mode: $MODE (fuzzers ${FUZZ_SECS} s each, stress ${STRESS_SECS} s)"
  echo "ABI calls fuzzed: ${seeded:-?} (seeded) + ${libfuzzer:-?} (cargo-fuzz abi, ${runs_abi:-?} inputs)"
  echo "core_ops inputs: ${runs_core:-?}; d2i inputs: ${runs_d2i:-?}"
  echo "stress: ${stress:-?}"
  echo "stress under TSan: ${stress_tsan:-?}; ThreadSanitizer warnings: $races"
  echo "failed gates: $fail (a crash, leak, race or model mismatch fails its gate)"
  echo "wall time: $(( $(date +%s) - started )) s"
} | tee "$OUT/figures.txt"

echo
if [ "$fail" -gt 0 ]; then echo "failed: ${failed[*]}"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
