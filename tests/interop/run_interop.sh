#!/usr/bin/env bash
# Runs the interop tests: the client libraries pinned in package-lock.json
# (installed by `make test` with npm ci) against the signoffd given.
#
#   tests/interop/run_interop.sh <signoffd> <work dir>
#
# The messages are generated from proto/ with protoc-gen-es into the work
# dir, beside a link to node_modules, so that the tests import both.
# Exits 77 (skipped) when the npm packages are not installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
signoffd=$(realpath "$1")
work=$2

if [ ! -x "$here/node_modules/.bin/protoc-gen-es" ]; then
  echo "the interop tests' npm packages are not installed: run make test, or npm ci in tests/interop" >&2
  exit 77
fi

rm -rf "$work"
mkdir -p "$work/gen"
ln -s "$here/node_modules" "$work/node_modules"
cp "$here"/*.mjs "$here/package.json" "$work/"
protoc -I "$source_dir/proto" \
  --plugin=protoc-gen-es="$here/node_modules/.bin/protoc-gen-es" \
  --es_out="$work/gen" --es_opt=target=js,import_extension=js \
  "$source_dir"/proto/signoff/v1/*.proto "$source_dir/proto/google/rpc/status.proto"
cd "$work"
SIGNOFFD=$signoffd SIGNOFF_SOURCE_DIR=$source_dir node --test --test-reporter=spec interop.test.mjs
