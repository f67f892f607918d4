#!/usr/bin/env bash
# Builds the agent image for this machine's architecture.
#
#   images/agent/build.sh --tag cook-agent:0.4.4 [--prodigy PATH] [--base IMAGE] [--revision SHA]
#                         [--label KEY=VALUE]... [--network NAME]
#
# The context gets Prodigy (the binary at --prodigy, or built here with `cargo install` from
# crates.io) and Claude Code's native build (`npm pack` of @anthropic-ai/claude-code-linux-<arch>,
# checked by npm against the registry's integrity), both at the versions in images/agent/versions,
# fetched with each client's configured registry. Then `docker build` on --base (default
# debian:bookworm-slim). Nothing is pushed: the release workflow does that.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/versions"

tag='' prodigy='' base=debian:bookworm-slim revision=unknown
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --label) extra+=(--label "$2"); shift 2 ;;
    --network) extra+=(--network "$2"); shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --prodigy) prodigy=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --revision) revision=$2; shift 2 ;;
    *) echo "agent image: unknown option '$1' (use --tag, --prodigy, --base, --revision, --label, --network)" >&2; exit 2 ;;
  esac
done
[ -n "$tag" ] || { echo "agent image: --tag is required" >&2; exit 2; }

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "agent image: no Claude Code build for $(uname -m)" >&2; exit 1 ;;
esac

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$here/Dockerfile" "$context/"

if [ -z "$prodigy" ]; then
  echo "agent image: building prodigy $PRODIGY_VERSION with cargo" >&2
  cargo install prodigy --locked --version "$PRODIGY_VERSION" --root "$context/prodigy-root" >&2
  prodigy=$context/prodigy-root/bin/prodigy
fi
"$prodigy" --version | grep -qx "prodigy $PRODIGY_VERSION" ||
  { echo "agent image: $prodigy is not prodigy $PRODIGY_VERSION" >&2; exit 1; }
cp "$prodigy" "$context/prodigy"

package=@anthropic-ai/claude-code-linux-$arch@$CLAUDE_CODE_VERSION
echo "agent image: fetching $package" >&2
(cd "$context" && npm pack --silent "$package" >/dev/null)
tar -xzf "$context"/anthropic-ai-claude-code-linux-*.tgz -C "$context" package/claude
mv "$context/package/claude" "$context/claude"
rm -rf "$context/package" "$context"/anthropic-ai-claude-code-linux-*.tgz "$context/prodigy-root"
"$context/claude" --version | grep -q "^$CLAUDE_CODE_VERSION " ||
  { echo "agent image: the package holds no Claude Code $CLAUDE_CODE_VERSION" >&2; exit 1; }

docker build --quiet "${extra[@]}" \
  --build-arg "BASE=$base" \
  --build-arg "PRODIGY_VERSION=$PRODIGY_VERSION" \
  --build-arg "CLAUDE_CODE_VERSION=$CLAUDE_CODE_VERSION" \
  --build-arg "REVISION=$revision" \
  --tag "$tag" "$context" >&2
echo "$tag"
