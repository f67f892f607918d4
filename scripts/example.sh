#!/usr/bin/env bash
# End to end on this machine: bring up the test ground, then run an example with real Prodigy in
# Docker containers through the cook-action CLI, and show the commits it made.
#   npm run example               examples/hello: one workflow, one container
#   npm run example -- mapreduce  examples/mapreduce: plan, three shards, reduce (as the matrix does)
set -euo pipefail
cd "$(dirname "$0")/.."
example=${1:-hello}
[ -d "examples/$example" ] || { echo "no such example: examples/$example" >&2; exit 2; }

ground_out=$(bash test/ground/ground.sh up --no-cluster)
while IFS='=' read -r key value; do
  [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$key=$value"
done <<<"$ground_out"

checkout=$(mktemp -d "${TMPDIR:-/tmp}/cook-example.XXXXXX")
cp -r "examples/$example/." "$checkout"
git -C "$checkout" init -q -b main
git -C "$checkout" add -A
git -C "$checkout" -c user.name=example -c user.email=example@example.invalid commit -q -m 'example checkout'
cook=(node "$PWD/dist/cli/index.js")
container=(--image "$PRODIGY_IMAGE" --pull-policy never --memory 1Gi --cpu 1 --timeout 5m)

# A fresh clone of the example checkout, as a new job's actions/checkout would make it.
job_checkout() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cook-example-job.XXXXXX")
  git clone -q "$checkout" "$dir"
  echo "$dir"
}

# The value of one `name=value` output line printed by the CLI.
output() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

if [ "$example" = hello ]; then
  echo "== cook-action --workflow workflow.yml in $checkout" >&2
  "${cook[@]}" --workflow workflow.yml --workspace "$checkout" "${container[@]}"
  echo "== git log in $checkout" >&2
  git -C "$checkout" log --oneline -3
  echo "== COOKED.txt" >&2
  cat "$checkout/COOKED.txt"
  exit 0
fi

outputs=$(mktemp)
echo "== cook-action plan --shards 3" >&2
"${cook[@]}" plan --workflow workflow.yml --workspace "$(job_checkout)" --shards 3 \
  "${container[@]}" 2> >(tee "$outputs" >&2)
matrix=$(output matrix "$outputs")
count=$(node -e 'console.log(JSON.parse(process.argv[1]).include.length)' "$matrix")
results=()
for ((i = 0; i < count; i++)); do
  entry=$(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).include[process.argv[2]]))' "$matrix" "$i")
  echo "== cook-action --shard <entry $((i + 1)) of $count>" >&2
  "${cook[@]}" --workflow workflow.yml --workspace "$(job_checkout)" --shard "$entry" \
    "${container[@]}" 2> >(tee "$outputs" >&2)
  results+=(--results "$(dirname "$(output results "$outputs")")")
done
echo "== cook-action reduce in $checkout" >&2
"${cook[@]}" reduce --workflow workflow.yml --workspace "$checkout" "${results[@]}" "${container[@]}"
echo "== git log in $checkout" >&2
git -C "$checkout" log --oneline -14
echo "== notes/REPORT.txt" >&2
cat "$checkout/notes/REPORT.txt"
