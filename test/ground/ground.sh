#!/usr/bin/env bash
# The test ground: everything the tests need, on a fresh Debian 12 machine, idempotently.
#
#   bash test/ground/ground.sh [up]           bring it all up; prints KEY=VALUE lines on stdout
#   bash test/ground/ground.sh up --no-cluster   everything but the Kubernetes cluster
#   bash test/ground/ground.sh load IMAGE     put a local Docker image into the cluster
#   bash test/ground/ground.sh down           stop the cluster, the registry and the Docker
#                                             engine this script started
#
# Slow results (the Debian root filesystem, the Prodigy binary) are cached outside the repository
# in $COOK_GROUND_CACHE (default ~/.cache/cook-action-ground), keyed by version; a second `up` on
# the same machine takes seconds. Progress goes to stderr; stdout carries only KEY=VALUE lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${COOK_GROUND_CACHE:-$HOME/.cache/cook-action-ground}

prodigy_version=0.4.4
# The oldest toolchain that builds prodigy 0.4.4 with its lockfile (sysinfo 0.37 needs 1.88).
prodigy_min_rust=1.88
# Bump when the recipe of the Debian root filesystem changes, so the cached tarball is remade.
debian_recipe=bookworm-minbase-r2

prodigy_image=cook-test/prodigy:$prodigy_version
# The product's own image (images/agent), built here as a user would, from the local Debian base.
agent_image=cook-test/agent:$prodigy_version
busybox_image=cook-test/busybox:1
debian_image=debian:bookworm-slim
hash_label=io.prodigy.cook-action.ground-hash

export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
# The classic builder works with every client (28.x without buildx refuses BuildKit) against
# Debian's 20.10 daemon.
export DOCKER_BUILDKIT=0

log() { printf 'ground: %s\n' "$*" >&2; }
die() {
  printf 'ground: error: %s\n' "$*" >&2
  exit 1
}

# Root for installing packages and starting the engine; sudo where the caller is not root.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

tmp_dirs=()
cleanup() { [ ${#tmp_dirs[@]} -eq 0 ] || as_root rm -rf "${tmp_dirs[@]}"; }
trap cleanup EXIT

installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=
# apt_install [--with-recommends] PKG...: installs the packages that are missing.
apt_install() {
  local recommends=--no-install-recommends
  if [ "$1" = --with-recommends ]; then
    recommends=
    shift
  fi
  local missing=()
  for pkg in "$@"; do installed "$pkg" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local aptlog=$cache/logs/apt.log
  if [ -z "$apt_updated" ]; then
    log "apt-get update (log: $aptlog)"
    # A failing extra source should not stop the ground; a missing package still fails below.
    as_root apt-get update >>"$aptlog" 2>&1 || log "apt-get update reported errors; see $aptlog"
    apt_updated=1
  fi
  log "installing ${missing[*]} (log: $aptlog)"
  # 9>&-: a daemon that a package starts while installing must not hold the ground's lock.
  # shellcheck disable=SC2086 # $recommends is one flag or nothing
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y $recommends "${missing[@]}" \
    >>"$aptlog" 2>&1 9>&- || {
    tail -n 20 "$aptlog" >&2
    die "apt-get install ${missing[*]} failed; see $aptlog"
  }
}

# wait_for SECONDS WHAT COMMAND...: waits until COMMAND succeeds, or dies naming WHAT.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what"
    sleep 1
  done
}

# --- Docker engine -------------------------------------------------------------------------------

# Bounded: a daemon that accepts the connection but hangs must not hang the ground.
docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

is_dockerd() { [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ]; }

dockerd_alive_or_die() {
  is_dockerd "$1" && return 0
  tail -n 20 "$cache/dockerd.log" >&2 || true
  die "dockerd ($1) exited before answering; see $cache/dockerd.log"
}

# Answers, or dies when the dockerd being waited for has exited.
dockerd_ready() {
  docker_answers && return 0
  dockerd_alive_or_die "$1"
  return 1
}

docker_up() {
  if docker_answers; then
    log "Docker engine answers at $DOCKER_HOST"
    return 0
  fi
  [ "$DOCKER_HOST" = unix:///var/run/docker.sock ] ||
    die "nothing answers at DOCKER_HOST=$DOCKER_HOST, and only the default socket can be started here"
  command -v dockerd >/dev/null 2>&1 || apt_install --with-recommends docker.io
  command -v docker >/dev/null 2>&1 || die "no docker client after installing docker.io"

  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if is_dockerd "$pid"; then
    # Started by someone else (or by docker.io's own init script while installing): wait for it.
    log "a dockerd ($pid) is already running; waiting for it to answer"
  else
    # dockerd uses a containerd that listens at /run/containerd/containerd.sock instead of starting
    # its own; a socket left behind by a containerd that is gone would leave Docker unable to run
    # anything, so a stale one is removed first.
    local system_containerd=/run/containerd/containerd.sock
    if [ -S "$system_containerd" ] && command -v ctr >/dev/null &&
      ! as_root ctr --address "$system_containerd" version >/dev/null 2>&1; then
      log "removing $system_containerd: nothing answers there"
      as_root rm -f "$system_containerd"
    elif [ -S "$system_containerd" ]; then
      log "note: dockerd will use the containerd at $system_containerd"
    fi
    log "starting dockerd (log: $cache/dockerd.log)"
    # No systemd here: dockerd runs detached in the background (its own session, so the caller's
    # Ctrl-C does not reach it; the ground's lock fd closed, so it does not hold the lock), and its
    # pid is kept for `down`.
    as_root sh -c "setsid nohup dockerd </dev/null >>'$cache/dockerd.log' 2>&1 9>&- & echo \$! >'$cache/dockerd.pid'"
    pid=$(cat "$cache/dockerd.pid")
  fi
  wait_for 60 "dockerd ($pid) to answer 'docker info' at $DOCKER_HOST" dockerd_ready "$pid"
  log "Docker engine up: client $(docker version --format '{{.Client.Version}}'), server $(docker version --format '{{.Server.Version}}')"
}

docker_down() {
  local pidfile=$cache/dockerd.pid pid
  if [ ! -f "$pidfile" ]; then
    log "no dockerd started by the ground; nothing to stop"
    return 0
  fi
  pid=$(cat "$pidfile")
  if is_dockerd "$pid"; then
    log "stopping dockerd ($pid)"
    as_root kill -TERM "$pid"
    # dockerd gives running containers 10 s to stop before it exits itself.
    local deadline=$((SECONDS + 45))
    while is_dockerd "$pid"; do
      [ "$SECONDS" -lt "$deadline" ] || die "dockerd ($pid) did not stop within 45s"
      sleep 1
    done
    log "dockerd stopped"
  else
    log "dockerd ($pid) is no longer running"
  fi
  rm -f "$pidfile"
}

# --- images --------------------------------------------------------------------------------------

image_label() { docker image inspect --format "{{ index .Config.Labels \"$hash_label\" }}" "$1" 2>/dev/null || true; }
short_hash() { sha256sum | cut -c1-16; }

# build_image NAME HASH FILE...: builds NAME from a context of the FILEs (a Dockerfile among them)
# unless the image already carries HASH. Returns 1 when it was up to date.
build_image() {
  local name=$1 hash=$2
  shift 2
  if [ "$(image_label "$name")" = "$hash" ]; then
    log "$name is up to date"
    return 1
  fi
  local ctx buildlog=$cache/logs/build-${name//[\/:]/_}.log
  ctx=$(mktemp -d -p "$cache" build.XXXXXX)
  tmp_dirs+=("$ctx")
  cp "$@" "$ctx/"
  log "building $name (log: $buildlog)"
  # Host networking for the builds that run apt; nothing is pulled (FROM images are local).
  if ! docker build --network host --label "$hash_label=$hash" -t "$name" "$ctx" >"$buildlog" 2>&1; then
    tail -n 30 "$buildlog" >&2
    die "building $name failed; see $buildlog"
  fi
  # The image this one replaced, now untagged.
  docker image prune -f --filter "label=$hash_label" >/dev/null 2>&1 || true
}

build_busybox() {
  apt_install busybox-static
  local busybox=/bin/busybox
  build_image "$busybox_image" "$(cat "$busybox" "$here/images/busybox/Dockerfile" | short_hash)" \
    "$busybox" "$here/images/busybox/Dockerfile" || true
}

# debian:bookworm-slim without a registry: a minbase debootstrap, imported. The rootfs tarball is
# cached; the image carries the recipe and the tarball's hash, so a new tarball means a new import.
build_debian() {
  local tarball=$cache/debian-$debian_recipe.tar current
  current=$(image_label "$debian_image")
  if docker image inspect "$debian_image" >/dev/null 2>&1 && [ -z "$current" ]; then
    log "$debian_image is present and was not made by the ground; using it"
    return 0
  fi
  # The label is RECIPE:TARBALL-HASH. Same recipe, and no other tarball in the cache: up to date
  # (a wiped cache alone does not mean a new debootstrap).
  if [ "${current%%:*}" = "$debian_recipe" ] &&
    { [ ! -s "$tarball.hash" ] || [ "${current#*:}" = "$(cat "$tarball.hash")" ]; }; then
    log "$debian_image is up to date"
    return 0
  fi
  if [ ! -s "$tarball" ] || [ ! -s "$tarball.hash" ]; then
    apt_install debootstrap
    local rootfs
    rootfs=$(mktemp -d -p "$cache" rootfs.XXXXXX)
    tmp_dirs+=("$rootfs")
    log "debootstrap --variant=minbase bookworm (about half a minute; log: $cache/logs/debootstrap.log)"
    if ! as_root debootstrap --variant=minbase bookworm "$rootfs" >"$cache/logs/debootstrap.log" 2>&1; then
      tail -n 20 "$cache/logs/debootstrap.log" >&2
      die "debootstrap failed; see $cache/logs/debootstrap.log"
    fi
    # As in the published slim image: no downloaded packages or package lists (half the size);
    # Dockerfiles run apt-get update first.
    as_root sh -c "rm -rf '$rootfs'/var/cache/apt/archives/*.deb '$rootfs'/var/lib/apt/lists/*"
    as_root tar -C "$rootfs" -cf "$tarball.partial" .
    short_hash <"$tarball.partial" >"$tarball.hash"
    mv "$tarball.partial" "$tarball"
  fi
  log "importing $debian_image from $tarball"
  docker import \
    --change "LABEL $hash_label=$debian_recipe:$(cat "$tarball.hash")" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tarball" "$debian_image" >/dev/null || die "docker import of $tarball failed"
  docker image prune -f --filter "label=$hash_label" >/dev/null 2>&1 || true
}

# --- Prodigy ---------------------------------------------------------------------------------------

prodigy_ok() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -qx "prodigy $prodigy_version"; }
not_building_prodigy() { ! pgrep -f 'cargo install prodigy' >/dev/null; }
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

ensure_cargo() {
  # Debian 12's own cargo (1.63) is too old; cargo-web is Debian 12's current toolchain.
  command -v cargo >/dev/null 2>&1 || apt_install cargo-web
  local version
  version=$(cargo --version | awk '{print $2}')
  version_ge "$version" "$prodigy_min_rust" ||
    die "cargo $version is older than $prodigy_min_rust, which prodigy $prodigy_version needs: install Debian's cargo-web (it replaces cargo) or a newer toolchain"
  # openssl-sys links the system OpenSSL; the other C dependencies are built bundled.
  apt_install pkg-config libssl-dev gcc libc6-dev
}

prodigy_binary() {
  local root=$cache/prodigy-$prodigy_version
  local bin=$root/bin/prodigy buildlog=$cache/prodigy-build.log
  if prodigy_ok "$bin"; then
    log "prodigy $prodigy_version is built ($bin)"
    return 0
  fi
  if ! not_building_prodigy; then
    # A build started by hand shares the cargo target folder: wait for it rather than race it.
    log "waiting for the prodigy build already running (log: $buildlog)"
    wait_for 3600 "the running 'cargo install prodigy' to finish" not_building_prodigy
    if prodigy_ok "$bin"; then
      log "prodigy $prodigy_version is built ($bin)"
      return 0
    fi
  fi
  ensure_cargo
  log "building prodigy $prodigy_version with cargo (a few minutes on two cores; log: $buildlog)"
  if ! CARGO_TARGET_DIR=$cache/cargo-target cargo install prodigy --locked --version "$prodigy_version" \
    --root "$root" >"$buildlog" 2>&1; then
    tail -n 30 "$buildlog" >&2
    die "cargo install prodigy $prodigy_version failed; see $buildlog"
  fi
  prodigy_ok "$bin" || die "$bin does not print 'prodigy $prodigy_version'"
}

# $cache/bin: prodigy and the claude stub, for tests of the local runtime (they prepend it to PATH).
ground_bin() {
  local dir=$cache/bin
  mkdir -p "$dir"
  ln -sfn "$cache/prodigy-$prodigy_version/bin/prodigy" "$dir/prodigy"
  # Replaced only when changed: a test may be running the current one.
  cmp -s "$here/images/prodigy/claude" "$dir/claude" || install -m 0755 "$here/images/prodigy/claude" "$dir/claude"
}

build_prodigy_image() {
  local prodigy=$cache/prodigy-$prodigy_version/bin/prodigy dir=$here/images/prodigy hash
  # The base image is an input too: a new Debian base means a new Prodigy image.
  hash=$({
    cat "$prodigy" "$dir/Dockerfile" "$dir/claude"
    docker image inspect --format '{{.Id}}' "$debian_image"
  } | short_hash)
  build_image "$prodigy_image" "$hash" "$prodigy" "$dir/Dockerfile" "$dir/claude" || return 0
  local out
  out=$(docker run --rm "$prodigy_image" sh -c 'prodigy --version && claude --version && git --version && id -u && echo "$HOME"') ||
    reject_image "$prodigy_image" "it does not run: $out"
  grep -qx "prodigy $prodigy_version" <<<"$out" || reject_image "$prodigy_image" "it does not run prodigy $prodigy_version: $out"
  grep -qx 1001 <<<"$out" || reject_image "$prodigy_image" "it does not run as uid 1001: $out"
  smoke_prodigy_image
}

# A built image that fails its checks is removed, so that the next `up` builds it again.
reject_image() {
  docker image rm -f "$1" >/dev/null 2>&1 || true
  die "$1 (removed): $2"
}

# A real shell-only run in the new image, as its user: the step's commit must reach the
# checked-out branch through the workflow's merge block (the claude stub cannot merge).
# images/agent/build.sh with the Prodigy built above and the local Debian base; rebuilt when the
# binary, the recipe or the pinned versions change.
build_agent_image() {
  local prodigy=$cache/prodigy-$prodigy_version/bin/prodigy dir=$here/../../images/agent hash
  local buildlog=$cache/logs/build-agent.log
  hash=$({
    cat "$prodigy" "$dir/Dockerfile" "$dir/versions" "$dir/build.sh"
    docker image inspect --format '{{.Id}}' "$debian_image"
  } | short_hash)
  if [ "$(image_label "$agent_image")" = "$hash" ]; then
    log "$agent_image is up to date"
    return 0
  fi
  log "building $agent_image (Claude Code's native build is fetched; log: $buildlog)"
  if ! bash "$dir/build.sh" --tag "$agent_image" --prodigy "$prodigy" --base "$debian_image" \
    --label "$hash_label=$hash" --network host >"$buildlog" 2>&1; then
    tail -n 30 "$buildlog" >&2
    die "building $agent_image failed; see $buildlog"
  fi
  docker image prune -f --filter "label=$hash_label" >/dev/null 2>&1 || true
}

smoke_prodigy_image() {
  local repo smokelog=$cache/logs/prodigy-smoke.log
  repo=$(mktemp -d -p "$cache" smoke.XXXXXX)
  tmp_dirs+=("$repo")
  cat >"$repo/wf.yml" <<'YAML'
name: ground-smoke
commands:
  - shell: "echo smoke > smoke.txt && git add smoke.txt && git commit -q -m 'ground: smoke'"
    commit_required: true
merge:
  - shell: "git -C \"$(git rev-parse --path-format=absolute --git-common-dir)/..\" merge --no-edit ${merge.source_branch}"
YAML
  git -C "$repo" init -q -b main
  git -C "$repo" add wf.yml
  git -C "$repo" -c user.name=ground -c user.email=ground@localhost commit -q -m init
  # Owned by the image's user, as a runner's checkout is (git refuses a repository owned by another).
  as_root chown -R 1001:1001 "$repo"
  log "smoke test: prodigy run in $prodigy_image (log: $smokelog)"
  if ! docker run --rm -v "$repo:/workspace" \
    -e GIT_AUTHOR_NAME=ground -e GIT_AUTHOR_EMAIL=ground@localhost \
    -e GIT_COMMITTER_NAME=ground -e GIT_COMMITTER_EMAIL=ground@localhost \
    "$prodigy_image" sh -c 'prodigy run wf.yml --yes && git log -1 --format=%s main' >"$smokelog" 2>&1; then
    tail -n 20 "$smokelog" >&2
    reject_image "$prodigy_image" "prodigy run failed in it; see $smokelog"
  fi
  [ "$(tail -n 1 "$smokelog")" = "ground: smoke" ] ||
    reject_image "$prodigy_image" "prodigy's commit did not reach the checked-out branch; see $smokelog"
}

# The action may start containers with Init: true, which needs the engine's docker-init.
check_init() {
  docker run --rm --init "$busybox_image" true >/dev/null 2>&1 ||
    die "'docker run --init $busybox_image true' failed: the engine's docker-init (Debian: /usr/bin/docker-init from docker.io, a link to tini-static) is missing or broken"
}

# The single-node Kubernetes cluster (cluster.sh) with the test images in its containerd.
cluster_up() {
  local cluster_env image
  # 9>&-: its daemons must not hold the ground's lock.
  cluster_env=$(bash "$here/cluster.sh" up 9>&-)
  for image in "$busybox_image" "$prodigy_image" "$agent_image"; do
    bash "$here/cluster.sh" load "$image" 9>&- >/dev/null
  done
  printf '%s\n' "$cluster_env"
}

up() {
  local started=$SECONDS with_cluster=1
  case "${1:-}" in
    "") ;;
    --no-cluster) with_cluster= ;;
    *) die "unknown option '$1' for up: use --no-cluster or nothing" ;;
  esac
  apt_install git ca-certificates
  # Headless Chromium for the tests that render the job summary as GitHub would
  # (test/support/render.ts), with fonts so that its text, emoji and screenshots are legible.
  apt_install chromium fonts-dejavu-core fonts-liberation fonts-noto-color-emoji
  docker_up
  build_busybox
  check_init
  build_debian
  prodigy_binary
  ground_bin
  build_prodigy_image
  build_agent_image
  # A private registry on loopback (distribution, htpasswd auth) for tests of pulling with
  # credentials; it needs the busybox image.
  local registry_env
  # 9>&-: the registry it starts must not hold the ground's lock, or the next `up` waits forever.
  registry_env=$(BUSYBOX_IMAGE=$busybox_image bash "$here/registry.sh" up 9>&-)
  local cluster_env=
  [ -z "$with_cluster" ] || cluster_env=$(cluster_up)
  log "ready in $((SECONDS - started))s"
  printf '%s\n' "$registry_env"
  [ -z "$cluster_env" ] || printf '%s\n' "$cluster_env"
  cat <<EOF
DOCKER_HOST=$DOCKER_HOST
PRODIGY_IMAGE=$prodigy_image
AGENT_IMAGE=$agent_image
BUSYBOX_IMAGE=$busybox_image
DEBIAN_IMAGE=$debian_image
GROUND_BIN=$cache/bin
EOF
}

mkdir -p "$cache/logs"
# One ground at a time per cache (a suite and an example started together share the builds).
exec 9>"$cache/ground.lock"
flock -w 3600 9 || die "another ground.sh held $cache/ground.lock for an hour"

case "${1:-up}" in
  up) up "${@:2}" ;;
  load)
    [ -n "${2:-}" ] || die "usage: ground.sh load IMAGE"
    bash "$here/cluster.sh" load "$2" 9>&-
    ;;
  down)
    bash "$here/cluster.sh" down 9>&-
    bash "$here/registry.sh" down
    docker_down
    ;;
  *) die "unknown command '$1': use up, up --no-cluster, load IMAGE or down" ;;
esac
