#!/usr/bin/env bash
# The test ground: everything the tests need, on a fresh Debian 12 machine, idempotently.
#
#   bash test/ground/ground.sh [up]   bring it up; prints KEY=VALUE lines on stdout
#   bash test/ground/ground.sh down   stop the Docker engine this script started
#
# Slow results (the Debian root filesystem, the Prodigy binary) are cached outside the repository
# in $COOK_GROUND_CACHE (default ~/.cache/cook-action-ground), keyed by version; a second `up` on
# the same machine takes seconds. Progress goes to stderr; stdout carries only KEY=VALUE lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${COOK_GROUND_CACHE:-$HOME/.cache/cook-action-ground}
prodigy_version=0.4.4
prodigy_image=cook-test/prodigy:$prodigy_version
busybox_image=cook-test/busybox:1
debian_image=debian:bookworm-slim
docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
export DOCKER_HOST=$docker_host

log() { printf 'ground: %s\n' "$*" >&2; }
die() { printf 'ground: error: %s\n' "$*" >&2; exit 1; }

# Root for installing packages and starting engines; sudo where the runner is not root.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    as_root apt-get update -qq >&2
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Waits until a command succeeds, at most $1 seconds, naming what it waited for.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 "$seconds"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "$what did not happen within ${seconds}s"
}

docker_up() {
  if docker info >/dev/null 2>&1; then
    log "Docker engine answers at $DOCKER_HOST"
    return 0
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  command -v docker >/dev/null 2>&1 || die "no docker client after installing docker.io"
  [ "$DOCKER_HOST" = unix:///var/run/docker.sock ] ||
    die "DOCKER_HOST=$DOCKER_HOST does not answer, and only the default socket can be started here"
  mkdir -p "$cache"
  log "starting dockerd (log: $cache/dockerd.log)"
  # No systemd here: dockerd runs in the background, its pid kept for `down`.
  as_root sh -c "nohup dockerd >'$cache/dockerd.log' 2>&1 & echo \$! >'$cache/dockerd.pid'"
  wait_for 60 "the Docker engine answering" docker info
  log "Docker engine up: $(docker version --format '{{.Server.Version}}')"
}

docker_down() {
  if [ -f "$cache/dockerd.pid" ]; then
    local pid
    pid=$(cat "$cache/dockerd.pid")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping dockerd ($pid)"
      as_root kill "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$cache/dockerd.pid"
  else
    log "no dockerd started by the ground"
  fi
}

# A hash of an image's inputs, kept as a label: the image is rebuilt only when they change.
inputs_hash() { cat "$@" | sha256sum | cut -c1-16; }
image_hash() { docker image inspect --format '{{ index .Config.Labels "io.prodigy.cook-action.ground-hash" }}' "$1" 2>/dev/null || true; }

# build_image NAME HASH FILE...: builds NAME from the FILEs (a Dockerfile among them) unless the
# image already carries HASH; returns 1 when it was up to date.
build_image() {
  local name=$1 hash=$2 ctx
  shift 2
  if [ "$(image_hash "$name")" = "$hash" ]; then
    log "$name is up to date"
    return 1
  fi
  log "building $name"
  ctx=$(mktemp -d)
  cp "$@" "$ctx/"
  # Builds that install packages with apt use host networking; nothing else is reached.
  docker build -q --network host --label "io.prodigy.cook-action.ground-hash=$hash" -t "$name" "$ctx" >&2
  rm -rf "$ctx"
}

build_busybox() {
  apt_install busybox-static
  build_image "$busybox_image" "$(inputs_hash /bin/busybox "$here/images/busybox/Dockerfile")" \
    /bin/busybox "$here/images/busybox/Dockerfile" || true
}

build_debian() {
  if docker image inspect "$debian_image" >/dev/null 2>&1; then
    log "$debian_image is present"
    return 0
  fi
  apt_install debootstrap
  local tarball=$cache/debian-bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    local rootfs
    rootfs=$(mktemp -d)
    log "debootstrap bookworm (minbase) into $rootfs"
    as_root debootstrap --variant=minbase bookworm "$rootfs" >&2
    mkdir -p "$cache"
    as_root tar -C "$rootfs" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    as_root rm -rf "$rootfs"
  fi
  log "importing $debian_image"
  docker import "$tarball" "$debian_image" >&2
}

prodigy_binary() {
  local root=$cache/prodigy-$prodigy_version
  local bin=$root/bin/prodigy
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "prodigy $prodigy_version"; then
    echo "$bin"
    return 0
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build prodigy $prodigy_version"
  apt_install pkg-config libssl-dev
  log "building prodigy $prodigy_version with cargo (a few minutes on two cores)"
  CARGO_TARGET_DIR=$cache/cargo-target cargo install prodigy --locked --version "$prodigy_version" \
    --root "$root" >&2
  "$bin" --version | grep -qx "prodigy $prodigy_version" || die "built prodigy does not say $prodigy_version"
  echo "$bin"
}

ground_bin() {
  local prodigy=$1 dir=$cache/bin
  mkdir -p "$dir"
  ln -sf "$prodigy" "$dir/prodigy"
  install -m 0755 "$here/images/prodigy/claude" "$dir/claude"
  echo "$dir"
}

build_prodigy_image() {
  local prodigy=$1
  local hash
  # The base image's id is an input too: a new Debian base means a new Prodigy image.
  hash=$({
    cat "$prodigy" "$here/images/prodigy/Dockerfile" "$here/images/prodigy/claude"
    docker image inspect --format '{{.Id}}' "$debian_image"
  } | sha256sum | cut -c1-16)
  build_image "$prodigy_image" "$hash" "$prodigy" "$here/images/prodigy/Dockerfile" \
    "$here/images/prodigy/claude" || return 0
  docker run --rm "$prodigy_image" prodigy --version | grep -qx "prodigy $prodigy_version" ||
    die "$prodigy_image does not run prodigy $prodigy_version"
}

up() {
  local started=$SECONDS
  mkdir -p "$cache"
  apt_install git ca-certificates
  docker_up
  build_busybox
  build_debian
  local prodigy bin
  prodigy=$(prodigy_binary)
  bin=$(ground_bin "$prodigy")
  build_prodigy_image "$prodigy"
  log "ready in $((SECONDS - started))s"
  cat <<EOF
DOCKER_HOST=$DOCKER_HOST
PRODIGY_IMAGE=$prodigy_image
BUSYBOX_IMAGE=$busybox_image
DEBIAN_IMAGE=$debian_image
GROUND_BIN=$bin
EOF
}

case "${1:-up}" in
  up) up ;;
  down) docker_down ;;
  *) die "unknown command '$1': use up or down" ;;
esac
