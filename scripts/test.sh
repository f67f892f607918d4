#!/usr/bin/env bash
# The whole test suite on a fresh machine: bring up the test ground (Docker engine, test images,
# real Prodigy), then static checks, then every test against it. Fails, never skips, when a real
# engine cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test ground" >&2
ground_out=$(bash test/ground/ground.sh up)
while IFS='=' read -r key value; do
  [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
  export "$key=$value"
  echo "  $key=$value" >&2
done <<<"$ground_out"

echo "== static checks" >&2
npm run --silent typecheck
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
bash scripts/lint-workflows.sh
node scripts/docs-tables.mjs --check

echo "== tests" >&2
if [ ! -f dist/main/index.js ] || [ ! -f dist/post/index.js ]; then
  echo "dist/ is missing: run 'npm run build' first (the end-to-end tests run the committed bundle)." >&2
  exit 1
fi
npx vitest run "$@"
