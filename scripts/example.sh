#!/usr/bin/env bash
# End to end on this machine: bring up the test ground, then run examples/hello with real Prodigy
# in a Docker container through the cook-action CLI, and show the commit it made.
set -euo pipefail
cd "$(dirname "$0")/.."

ground_out=$(bash test/ground/ground.sh up --no-cluster)
while IFS='=' read -r key value; do
  [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$key=$value"
done <<<"$ground_out"

checkout=$(mktemp -d "${TMPDIR:-/tmp}/cook-example.XXXXXX")
cp -r examples/hello/. "$checkout"
git -C "$checkout" init -q -b main
git -C "$checkout" add -A
git -C "$checkout" -c user.name=example -c user.email=example@example.invalid commit -q -m 'example checkout'

echo "== cook-action --workflow workflow.yml in $checkout" >&2
node dist/cli/index.js \
  --workflow workflow.yml \
  --workspace "$checkout" \
  --image "$PRODIGY_IMAGE" \
  --pull-policy never \
  --memory 1Gi --cpu 1 --timeout 5m

echo "== git log in $checkout" >&2
git -C "$checkout" log --oneline -3
echo "== COOKED.txt" >&2
cat "$checkout/COOKED.txt"
