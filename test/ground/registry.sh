#!/usr/bin/env bash
# A real, authenticated container registry on loopback, for tests of pulling with credentials.
#
#   bash test/ground/registry.sh [up]   build (once), start, push the test image; prints
#                                       REGISTRY=, REGISTRY_IMAGE=, REGISTRY_USERNAME= and
#                                       REGISTRY_PASSWORD= lines on stdout
#   bash test/ground/registry.sh down   stop the registry this script started (its storage stays,
#                                       so the next `up` need not push again)
#
# No registry image can be pulled here, so the CNCF distribution registry is compiled from the Go
# module proxy at a pinned release and run as a plain process on 127.0.0.1:5000, with htpasswd
# (bcrypt) basic auth over plain HTTP. The Docker engine treats 127.0.0.0/8 as an insecure
# registry range by default, so it pulls from there over HTTP without any daemon configuration.
# The binary, its configuration, storage, log and pid live in $COOK_GROUND_CACHE (default
# ~/.cache/cook-action-ground)/registry-<version>.
#
# The test image is the ground's cook-test/busybox:1 (ground.sh builds it) plus one layer of its
# own, so that a pull really downloads and extracts something. It is pushed once (again only when
# the busybox image changes), and its local copy is removed so the tests really pull.
# Progress goes to stderr; stdout carries only KEY=VALUE lines.
set -euo pipefail

cache=${COOK_GROUND_CACHE:-$HOME/.cache/cook-action-ground}
# v3.1.2's go.mod asks for Go 1.26.0; an older Go (>= 1.21) fetches that toolchain by itself.
registry_version=${COOK_REGISTRY_VERSION:-v3.1.2}
registry_module=github.com/distribution/distribution/v3
dir=$cache/registry-$registry_version
binary=$dir/registry
addr=127.0.0.1:5000
username=cook
password=cook-test-password
source_image=${BUSYBOX_IMAGE:-cook-test/busybox:1}
# The source image's id, as a label of the pushed image: tells whether the push is current.
source_label=cook-ground.registry.source
repository=cook-test/private-busybox
tag=1
image=$addr/$repository:$tag
pidfile=$dir/registry.pid
logfile=$dir/registry.log
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}

log() { printf 'registry: %s\n' "$*" >&2; }
die() { printf 'registry: error: %s\n' "$*" >&2; exit 1; }


# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------------------------------------

build() {
  if [ -x "$binary" ]; then
    log "registry $registry_version already built ($binary)"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "no Go toolchain: install Go >= 1.21 (it fetches the Go this registry release needs)"
  mkdir -p "$dir"
  local started=$SECONDS
  log "building $registry_module/cmd/registry@$registry_version with $(go version | cut -d' ' -f3) (a few minutes, once)"
  rm -rf "$dir/bin.tmp"
  mkdir -p "$dir/bin.tmp"
  (
    export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOPATH=$cache/go/path
    # auto: uses the local Go when it is new enough for the module's go.mod, else fetches that
    # release from the module proxy. GOFLAGS cleared: the machine's flags are not this build's.
    export GOTOOLCHAIN=auto GOFLAGS='' CGO_ENABLED=0 GOBIN=$dir/bin.tmp
    go install -trimpath -ldflags "-s -w" "$registry_module/cmd/registry@$registry_version" >&2
  ) || die "building the registry failed (see above)"
  mv "$dir/bin.tmp/registry" "$binary"
  rmdir "$dir/bin.tmp"
  log "built $binary in $((SECONDS - started))s"
}

configure() {
  mkdir -p "$dir/storage"
  if ! { [ -f "$dir/htpasswd" ] && command -v htpasswd >/dev/null 2>&1 &&
    htpasswd -vb "$dir/htpasswd" "$username" "$password" >/dev/null 2>&1; }; then
    command -v htpasswd >/dev/null 2>&1 || apt_install apache2-utils
    log "writing $dir/htpasswd (bcrypt) for user $username"
    htpasswd -Bbc "$dir/htpasswd.tmp" "$username" "$password" 2>/dev/null
    mv "$dir/htpasswd.tmp" "$dir/htpasswd"
  fi
  cat >"$dir/config.yml.tmp" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $addr
  secret: cook-action-test-ground
auth:
  htpasswd:
    realm: cook-action-test-ground
    path: $dir/htpasswd
YAML
  mv "$dir/config.yml.tmp" "$dir/config.yml"
}

# The pid in the pidfile, if that process is alive and is this registry.
running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$binary" || return 1
  printf '%s\n' "$pid"
}

v2_status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$addr/v2/" || true; }

start() {
  local pid status=
  if pid=$(running_pid); then
    log "registry already running (pid $pid)"
  else
    rm -f "$pidfile"
    status=$(v2_status)
    [ "$status" = 000 ] ||
      die "something else answers on $addr (HTTP $status); stop it, then run again"
    log "starting the registry on $addr (log: $logfile)"
    # setsid: the registry outlives this script and is not hit by a Ctrl-C meant for it. Its
    # OpenTelemetry tracing would otherwise export to localhost:4318 and log an error each time.
    # The pid is written by the process that then becomes the registry (exec keeps it): $! would
    # be setsid's when setsid has to fork, and for a moment a shell's that is not yet the registry.
    # Both once made a healthy start look like an exit.
    local log_start
    log_start=$(($(wc -l <"$logfile" 2>/dev/null || echo 0) + 1))
    OTEL_TRACES_EXPORTER=none setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" \
      "$binary" serve "$dir/config.yml" >>"$logfile" 2>&1 </dev/null &
    for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
    pid=$(cat "$pidfile" 2>/dev/null) || die "the registry did not start (no pid in $pidfile)"
  fi
  for _ in $(seq 1 60); do
    status=$(v2_status)
    [ "$status" = 401 ] && break
    kill -0 "$pid" 2>/dev/null ||
      die "the registry exited; what it logged:"$'\n'"$(tail -n +"${log_start:-1}" "$logfile" | tail -n 20)"
    sleep 0.5
  done
  [ "$status" = 401 ] ||
    die "the registry did not answer /v2/ with 401 within 30s (last: HTTP $status); see $logfile"
  log "registry up: /v2/ answers 401 without credentials"
}

# What the registry holds under the tag: the id of the source image it was built from, or nothing.
remote_source() {
  local auth=(-s -m 10 -u "$username:$password") digest
  digest=$(curl "${auth[@]}" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$addr/v2/$repository/manifests/$tag" |
    tr -d ' \n\t' | sed -n 's/.*"config":{[^}]*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p') || true
  [ -n "$digest" ] || return 0
  curl "${auth[@]}" "http://$addr/v2/$repository/blobs/$digest" |
    tr -d ' \n\t' | sed -n "s/.*\"$source_label\":\"\(sha256:[0-9a-f]*\)\".*/\1/p" || true
}

push() {
  local source_id
  source_id=$(docker image inspect --format '{{.Id}}' "$source_image" 2>/dev/null) ||
    die "$source_image is not on the Docker engine; run 'bash test/ground/ground.sh up' first"
  if [ "$(remote_source)" = "$source_id" ]; then
    log "$image already in the registry (built from $source_image as it is now)"
  else
    # The engine must treat the registry as insecure (plain HTTP); 127.0.0.0/8 is by default.
    docker info --format '{{json .RegistryConfig.InsecureRegistryCIDRs}}' 2>/dev/null |
      grep -qF '127.0.0.0/8' ||
      die "the Docker engine does not treat 127.0.0.0/8 as an insecure registry range"
    # Not $source_image itself: a pull of an image whose content the engine already has only
    # tags it. A layer of its own makes every pull fetch and extract that layer for real.
    log "building $image: $source_image plus a layer of its own"
    printf '%s\n' \
      "FROM $source_image" \
      "LABEL $source_label=$source_id" \
      "RUN echo \"only in the test ground's registry\" > /private-image.txt" |
      DOCKER_BUILDKIT=0 docker build --network none --force-rm -t "$image" - >&2 ||
      die "building $image failed"
    log "pushing $image"
    local config
    config=$(mktemp -d)
    # A throwaway DOCKER_CONFIG: logging in must not touch the machine's docker config.
    (
      trap 'rm -rf "$config"' EXIT
      export DOCKER_CONFIG=$config
      printf '%s' "$password" | docker login --username "$username" --password-stdin "$addr" >&2
      docker push "$image" >&2
      docker logout "$addr" >&2 || true
    ) || die "pushing $image failed"
    [ "$(remote_source)" = "$source_id" ] || die "the registry does not hold $image after the push"
  fi
  # Tests must really pull: no local copy of the pushed image.
  if docker image inspect "$image" >/dev/null 2>&1; then
    docker image rm "$image" >/dev/null
    log "removed the local copy of $image"
  fi
}

up() {
  build
  configure
  start
  push
  printf 'REGISTRY=%s\n' "$addr"
  printf 'REGISTRY_IMAGE=%s\n' "$image"
  printf 'REGISTRY_USERNAME=%s\n' "$username"
  printf 'REGISTRY_PASSWORD=%s\n' "$password"
}

down() {
  local pid
  if pid=$(running_pid); then
    log "stopping the registry (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  else
    log "no registry started by this script is running"
  fi
  rm -f "$pidfile"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 [up|down]" ;;
esac
