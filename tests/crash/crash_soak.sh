#!/usr/bin/env bash
# Runs the crash suite for many cycles and prints its counts:
#   tests/crash/crash_soak.sh [cycles]      (default 1000)
# SIGNOFF_CRASH_SEED repeats a run's kill points; BUILD_DIR names the build
# folder (default build). Exits non-zero when any cycle failed.
set -euo pipefail

cycles="${1:-1000}"
if ! [[ "$cycles" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [cycles]   (a positive number, default 1000)" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-build}"
[[ "$build" = /* ]] || build="$root/$build"
binary="$build/bin/crash_test"
if [[ ! -x "$binary" ]]; then
  echo "$binary is missing: build the crash_test target first (make build)" >&2
  exit 1
fi

# The test prints a line per cycle and a summary; on failure it says where
# the failing cycle's database and log were kept.
SIGNOFF_CRASH_CYCLES="$cycles" "$binary" --gtest_color=no
