#!/usr/bin/env bash
# actionlint on .github/workflows (and the shell in their run: steps, when shellcheck is on PATH).
# Pinned, installed with `go install` into the ground's cache the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.7.12
dir=${COOK_GROUND_CACHE:-$HOME/.cache/cook-action-ground}/actionlint-$version
if [ ! -x "$dir/actionlint" ]; then
  command -v go >/dev/null || { echo "lint-workflows: go is needed to install actionlint $version" >&2; exit 1; }
  echo "lint-workflows: installing actionlint $version with go" >&2
  GOBIN=$dir GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi
"$dir/actionlint" -no-color -oneline
