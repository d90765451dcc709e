#!/usr/bin/env bash
# Installs a folder's npm packages from its package-lock.json with npm ci,
# unless what is installed came from that same lock file.
#
#   tests/support/npm_ci.sh <folder with package-lock.json>
set -euo pipefail

dir=$(cd "$1" && pwd)
# npm ci leaves no copy of the lock it installed from that survives a
# change of npm version, so keep one beside the packages.
stamp="$dir/node_modules/.signoff-installed-lock"
if [ ! -d "$dir/node_modules" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
  echo "npm ci in ${dir##*/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
fi
