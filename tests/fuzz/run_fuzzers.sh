#!/usr/bin/env bash
# Runs the libFuzzer targets and prints, for each, how many inputs it ran
# and whether it crashed.
#
#   tests/fuzz/run_fuzzers.sh [SECONDS] [FUZZER...]
#
# SECONDS per fuzzer (default 60); every fuzzer unless some are named. The
# fuzzers come from SIGNOFF_FUZZ_BUILD_DIR (default: ${BUILD_DIR:-build}/fuzz,
# which `make fuzz-build` makes). Each keeps the inputs it found useful in
# <that dir>/corpus/<fuzzer>, so later runs start from them, and writes an
# input that crashed it to <that dir>/artifacts/<fuzzer>/.
#
# Exits 1 when a fuzzer crashed, 77 when a fuzzer is not built.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
fuzz_dir=${SIGNOFF_FUZZ_BUILD_DIR:-$source_dir/${BUILD_DIR:-build}/fuzz}
seconds=${1:-60}
shift || true

if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS] [FUZZER...]" >&2
  exit 2
fi

# Seed inputs for each fuzzer, from the source tree; the shipped
# definitions, organisation and calendar seed the YAML mapping.
declare -A seeds=(
  [definition_yaml_fuzzer]="workflow/definitions tests/fuzz/seeds/definition_yaml"
  [form_fuzzer]="tests/fuzz/seeds/form"
  [condition_fuzzer]="tests/fuzz/seeds/condition"
  [bearer_token_fuzzer]="tests/fuzz/seeds/bearer_token"
  [jwks_fuzzer]="tests/fuzz/seeds/jwks"
  [web_frame_fuzzer]="tests/fuzz/seeds/web_frame"
)
# Tokens of each input language, which mutation alone seldom spells.
declare -A dicts=(
  [definition_yaml_fuzzer]=yaml.dict
  [form_fuzzer]=yaml.dict
  [condition_fuzzer]=yaml.dict
  [bearer_token_fuzzer]=bearer_token.dict
  [jwks_fuzzer]=jwks.dict
  [web_frame_fuzzer]=web_frame.dict
)
all=(definition_yaml_fuzzer form_fuzzer condition_fuzzer bearer_token_fuzzer jwks_fuzzer
  web_frame_fuzzer)
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=("${all[@]}")

for fuzzer in "${fuzzers[@]}"; do
  if [ -z "${seeds[$fuzzer]+set}" ]; then
    echo "unknown fuzzer $fuzzer (known: ${all[*]})" >&2
    exit 2
  fi
  if [ ! -x "$fuzz_dir/bin/$fuzzer" ]; then
    echo "$fuzzer is not built in $fuzz_dir (make fuzz-build builds it)" >&2
    exit 77
  fi
done

# A report of undefined behaviour comes with the stack that led to it.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# ASan holds freed memory back (256 MB by default) to catch its use, and
# with it a long run's peak memory creeps toward libFuzzer's 2 GB limit,
# which would be reported as a crash. Recent frees are still caught.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}

crashed=0
results=()
for fuzzer in "${fuzzers[@]}"; do
  corpus=$fuzz_dir/corpus/$fuzzer
  artifacts=$fuzz_dir/artifacts/$fuzzer
  log=$fuzz_dir/logs/$fuzzer.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  seed_dirs=()
  for dir in ${seeds[$fuzzer]}; do seed_dirs+=("$source_dir/$dir"); done
  echo "== $fuzzer: ${seconds}s"
  status=0
  # An input that takes over 25 s is a hang, and counts as a crash.
  "$fuzz_dir/bin/$fuzzer" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -dict="$source_dir/tests/fuzz/dicts/${dicts[$fuzzer]}" -artifact_prefix="$artifacts/" \
    "$corpus" "${seed_dirs[@]}" > "$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  corpus_size=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    crashes=0
    detail=""
  else
    crashed=1
    crashes=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    detail=" (it stops at the first; input: ${artifact:-none written}, log: $log)"
    # The sanitizer's report, for a reader of the test output.
    grep -v '^#[0-9]' "$log" | tail -n 60
  fi
  line=$(printf '%-22s executions: %10s  crashes: %d  corpus: %d%s' \
    "$fuzzer" "${executions:-?}" "$crashes" "$corpus_size" "$detail")
  echo "$line"
  results+=("$line")
done

if [ ${#fuzzers[@]} -gt 1 ]; then
  echo
  echo "fuzzers, ${seconds}s each:"
  printf '%s\n' "${results[@]}"
fi
exit "$crashed"
