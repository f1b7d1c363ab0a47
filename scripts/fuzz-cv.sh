#!/usr/bin/env bash
# Fuzzes cv-ingestion's document parsers with cargo-fuzz (libFuzzer + AddressSanitizer):
# builds the targets of services/cv-ingestion/fuzz, then runs each one, in a single
# process, for SECONDS (default 240). Only panics, hangs (>10 s on one input), aborts and
# out-of-memory (>2 GiB) count as findings; parse errors are expected.
#
#   scripts/fuzz-cv.sh [SECONDS] [TARGET...]      targets: pdf office rtf text (all)
#
# Needs cargo-fuzz and a nightly toolchain; installs nothing:
#   cargo install cargo-fuzz --locked && rustup toolchain install nightly
# Environment: CARGO_TARGET_DIR ($JOBMATCH_CACHE/fuzz-target, i.e.
# /var/cache/jobmatch/fuzz-target), SKILLS_REFERENTIAL (the ESCO CSV for the text
# target; default $JOBMATCH_CACHE/referentials/esco_skills_en.csv, else a stand-in).
#
# Seeds (small real files, in git) are in fuzz/seeds/<target>/ and are copied into the
# working corpus fuzz/corpus/<target>/, which grows across runs (not in git). A finding
# is written by libFuzzer to fuzz/artifacts/<target>/ (crash-*, timeout-*, oom-*,
# leak-*); replay it with `cargo +nightly fuzz run <target> -O <file>` and shrink it
# with `cargo +nightly fuzz tmin <target> -O <file>`. Each run's output is in
# fuzz/logs/<target>.log. Exit status: 0 when no target found anything, 1 otherwise,
# 2 when the tools are missing or the build fails.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICE=$REPO/services/cv-ingestion
FUZZ=$SERVICE/fuzz
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
ALL_TARGETS=(pdf office rtf text)

die() { echo "fuzz-cv: $*" >&2; exit 2; }

SECONDS_PER_TARGET=240
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  SECONDS_PER_TARGET=$1
  shift
fi
[[ $SECONDS_PER_TARGET -gt 0 ]] || die "SECONDS must be at least 1"
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target '$t' (known: ${ALL_TARGETS[*]})"
done

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup"
command -v rustup >/dev/null || die "rustup not found: cargo-fuzz needs a nightly toolchain from rustup"
# Listed, not run: `cargo +nightly` could make rustup install the toolchain.
rustup toolchain list | grep -q '^nightly' \
  || die "no nightly toolchain (cargo-fuzz needs one): rustup toolchain install nightly"
cargo +nightly fuzz --version >/dev/null 2>&1 \
  || die "cargo-fuzz not found: cargo install cargo-fuzz --locked"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/fuzz-target}
if [[ -z ${SKILLS_REFERENTIAL:-} && -f $CACHE/referentials/esco_skills_en.csv ]]; then
  export SKILLS_REFERENTIAL=$CACHE/referentials/esco_skills_en.csv
fi

cd "$SERVICE"
echo "fuzz-cv: building ${TARGETS[*]} (cargo +nightly fuzz build -O, target dir $CARGO_TARGET_DIR)"
if [[ ${#TARGETS[@]} -eq ${#ALL_TARGETS[@]} ]]; then
  cargo +nightly fuzz build -O || die "build failed"
else
  for t in "${TARGETS[@]}"; do
    cargo +nightly fuzz build -O "$t" || die "build of target '$t' failed"
  done
fi

mkdir -p "$FUZZ/logs"
declare -A RESULT
FOUND=0
for t in "${TARGETS[@]}"; do
  corpus=$FUZZ/corpus/$t
  seeds=$FUZZ/seeds/$t
  mkdir -p "$corpus" "$FUZZ/artifacts/$t"
  cp "$seeds"/* "$corpus"/
  log=$FUZZ/logs/$t.log
  before=$(find "$FUZZ/artifacts/$t" -type f | sort)
  echo "fuzz-cv: $t for ${SECONDS_PER_TARGET}s (log: $log)"
  start=$(date +%s)
  status=0
  # One process (--jobs 1: no -fork; libFuzzer's -jobs left at 0): the machine has two
  # cores to share. New inputs go to the first corpus directory, seeds are read only.
  cargo +nightly fuzz run "$t" -O --jobs 1 "$corpus" "$seeds" -- \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
    -max_len=200000 -print_final_stats=1 >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  new=$(comm -13 <(echo "$before") <(find "$FUZZ/artifacts/$t" -type f | sort) | tr '\n' ' ')
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  runs_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true)
  if [[ $status -ne 0 || -n ${new// /} ]]; then
    FOUND=1
    # The panic's place and message (the line after "panicked at"), else libFuzzer's.
    crash=$(grep -E -m1 -A1 "panicked at" "$log" | tr '\n' ' ' || true)
    [[ -n $crash ]] || crash=$(grep -E -m1 "ERROR: libFuzzer|ERROR: AddressSanitizer|==ERROR" "$log" || true)
    RESULT[$t]="FINDING (exit $status) after ${elapsed}s: ${crash:-see log}; new artifacts: ${new:-none}"
  else
    RESULT[$t]="ok in ${elapsed}s: ${done_line:-no DONE line} | ${runs_line}"
  fi
  echo "fuzz-cv: $t: ${RESULT[$t]}"
done

echo
echo "fuzz-cv: summary (${SECONDS_PER_TARGET}s per target)"
for t in "${TARGETS[@]}"; do
  echo "  $t: ${RESULT[$t]}"
done
exit "$FOUND"
