#!/usr/bin/env bash
# A real single-node Kubernetes cluster for the tests, built from upstream sources.
#
#   bash test/ground/cluster.sh up            build (once), start, wait until usable; prints
#                                             KUBECONFIG=<path> and KUBECTL=<path> on stdout
#   bash test/ground/cluster.sh down          stop the pods and everything `up` started; the next
#                                             `up` starts from an empty etcd
#   bash test/ground/cluster.sh load IMAGE    copy IMAGE from the Docker engine into the cluster's
#                                             containerd (nothing can be pulled here)
#   bash test/ground/cluster.sh build         only build the binaries (to warm the cache early)
#
# Kubernetes (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl) and
# containerd (with its runc shim and ctr) are compiled from the Go module proxy at pinned releases;
# runc and the CNI plugins come from Debian; the pause image is built here from a few lines of C.
# No kind, k3s or KWOK: the kubelet really runs the pods with runc. Everything slow is cached
# outside the repository in $COOK_GROUND_CACHE (default ~/.cache/cook-action-ground), keyed by
# version. Progress goes to stderr; stdout carries only KEY=VALUE lines. See cluster/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
assets=$here/cluster
cache=${COOK_GROUND_CACHE:-$HOME/.cache/cook-action-ground}

# Root is needed for containerd, the kubelet, mounts and iptables. Re-run through sudo keeping
# the cache where the caller's HOME says it is.
if [ "$(id -u)" != 0 ]; then
  exec sudo COOK_GROUND_CACHE="$cache" bash "$0" "$@"
fi

# Kubernetes 1.34: the newest minor whose kubelet still runs on cgroup v1 without extra opt-ins
# and still falls back to the configured cgroup driver with a containerd that cannot tell it
# (1.7 has no CRI RuntimeConfig). The etcd and Go versions are read from
# this release's own files.
k8s_version=${COOK_K8S_VERSION:-v1.34.4}
# containerd built from its release module rather than Debian's 1.6.20, whose CRI loses the tail of
# a container's output when the container exits right after writing it: its log reads
# `Failed to pipe stdout of container ... read /proc/self/fd/NN: file already closed`, and
# `seq 1 20000` leaves 10,000 to 14,000 lines in the pod's log. 1.7 keeps the same CRI config
# format (version 2) and still supports cgroup v1, which these machines run. Its binaries, the
# runc shim included, live in their own folder: cluster.sh uses them by absolute path.
containerd_version=${COOK_CONTAINERD_VERSION:-v1.7.35}
cdir=$cache/containerd-$containerd_version
cbin=$cdir/bin
containerd_cmds=(containerd containerd-shim-runc-v2 ctr)
ctr_bin=$cbin/ctr
kdir=$cache/kubernetes-$k8s_version
bin=$kdir/bin
state=$cache/cluster
run=$state/run
logs=$state/logs
pki=$state/pki
node_name=cook-ground
# A fully qualified name under `localhost`: containerd keeps it as it is (a short name would be
# stored under Docker Hub's), and a pull, were it ever tried, would not leave this machine.
pause_image=localhost/cook-ground/pause:1
# A containerd of its own, apart from the system's default paths: a dockerd started while a
# containerd answers at /run/containerd/containerd.sock adopts it instead of running its own, and
# Docker would then break whenever the cluster stops.
containerd_root=/var/lib/cook-ground/containerd
containerd_state=/run/cook-ground/containerd
containerd_sock=$containerd_state/containerd.sock
cni_conf=/etc/cni/net.d/10-cook-ground.conflist
cni_net=cook-ground
kubelet_root=/var/lib/kubelet
k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

# ---------------------------------------------------------------------------------------------
# Building the binaries
# ---------------------------------------------------------------------------------------------

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The module and build caches live beside the binaries so a rebuild after a version bump, or after
# the binaries were deleted, is fast. GOTOOLCHAIN is set per module from the release's own file.
go_env() {
  command -v go >/dev/null 2>&1 || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null 2>&1 || die "no go command: a Go of 1.21 or newer is needed (it fetches the toolchain Kubernetes wants)"
  local minor
  minor=$(GOTOOLCHAIN=local go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [ "${minor:-0}" -ge 21 ] || die "$(go version): Go 1.21 or newer is needed for GOTOOLCHAIN"
  export GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/build GOPATH=$cache/go/path
  # -modcacherw: a module cache that `rm -rf` can clear; -buildvcs=false: the wrapper is no repo.
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local
}

# Prints the value of one field of `go mod download -json` output read on stdin.
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p"; }

# A released module whose go.mod points sibling modules at local paths (`=> ./staging/...`,
# `=> ../api`) cannot be built as a dependency: those replaces only apply inside its own repo.
# Print the replace lines a wrapper module needs: each locally replaced module mapped to its own
# release at $2; module-to-module replaces copied as they are; `FORBIDDEN_DEPENDENCY` guards left out.
derive_replaces() {
  local gomod=$1 version=$2
  awk -v version="$version" '
    /^replace[ \t]*\($/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    {
      line = $0
      if (!block) { if ($1 != "replace") next; sub(/^replace[ \t]+/, "", line) }
      sub(/\/\/.*/, "", line); sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line)
      n = split(line, f, /[ \t]+/)
      arrow = 0
      for (i = 1; i <= n; i++) if (f[i] == "=>") arrow = i
      if (!arrow) next
      target = f[arrow + 1]
      if (target ~ /FORBIDDEN_DEPENDENCY/) next
      if (target ~ /^\.\.?\//) printf "replace %s => %s %s\n", f[1], f[1], version
      else print "replace " line
    }' "$gomod"
}

# Writes a wrapper module in $1 requiring $2@$3 and building the main packages $5...; $4 is the
# version the locally replaced siblings are released at. `go` and `godebug` lines are copied so
# the binaries behave as upstream's do, and single-line `exclude` lines since they too apply only in
# the main module.
write_wrapper() {
  local dir=$1 mod=$2 version=$3 sibling_version=$4 gomod
  shift 4
  mkdir -p "$dir"
  gomod=$(GOTOOLCHAIN=local go mod download -json "$mod@$version" | json_field GoMod)
  [ -s "$gomod" ] || die "go mod download $mod@$version gave no go.mod"
  {
    echo "// Generated by test/ground/cluster.sh: builds $mod $version from the module proxy."
    echo "module cook-action.invalid/ground/$(basename "$dir")"
    echo
    grep -E '^go [0-9]' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo
    echo "require $mod $version"
    echo
    grep -E '^exclude [^(]' "$gomod" || true
    derive_replaces "$gomod" "$sibling_version"
  } >"$dir/go.mod.new"
  {
    echo "//go:build tools"
    echo
    echo "// Package tools only records the commands to build, so that go mod tidy keeps their modules."
    echo "package tools"
    echo
    echo "import ("
    local p
    for p in "$@"; do echo "	_ \"$p\""; done
    echo ")"
  } >"$dir/tools.go"
  if ! cmp -s "$dir/go.mod.new" "$dir/go.mod"; then
    mv "$dir/go.mod.new" "$dir/go.mod"
    rm -f "$dir/go.sum"
  else
    rm -f "$dir/go.mod.new"
  fi
  log "$(grep -c '^replace' "$dir/go.mod") replace lines derived from $mod@$version's go.mod"
  (cd "$dir" && go mod tidy >&2)
}

# Reads the Go and etcd versions this Kubernetes release is built and tested with, from its own
# .go-version and build/dependencies.yaml.
k8s_versions() {
  [ -n "${k8s_src:-}" ] && return 0
  go_env
  k8s_src=$(GOTOOLCHAIN=local go mod download -json "k8s.io/kubernetes@$k8s_version" | json_field Dir)
  [ -d "$k8s_src" ] || die "could not download k8s.io/kubernetes@$k8s_version"
  go_version=go$(tr -d ' \n' <"$k8s_src/.go-version")
  etcd_version=${COOK_ETCD_VERSION:-v$(awk '
    /- name: "etcd"$/ { found = 1; next }
    found && $1 == "version:" { print $2; exit }' "$k8s_src/build/dependencies.yaml")}
  [ "$etcd_version" != v ] || die "no etcd version in $k8s_src/build/dependencies.yaml"
}

binaries_present() {
  local c
  for c in "${k8s_cmds[@]}" etcd; do [ -x "$bin/$c" ] || return 1; done
}

build_binaries() {
  binaries_present && return 0
  mkdir -p "$kdir"
  # One build at a time: a background `build` and an `up` may race for the same cache.
  exec 8>"$kdir/build.lock"
  if ! flock -n 8; then
    log "waiting for another build of Kubernetes $k8s_version to finish (lock $kdir/build.lock)"
    flock 8
  fi
  if binaries_present; then exec 8>&-; return 0; fi
  k8s_versions
  apt_install gcc libc6-dev
  export GOTOOLCHAIN=$go_version
  local t0 t1 minor date ldflags p
  t0=$(now)
  log "building Kubernetes $k8s_version and etcd $etcd_version with $go_version (about 10 to 15 minutes on two cores when nothing is cached)"
  mkdir -p "$bin"

  # Kubernetes: its staging modules are released as k8s.io/<name> v0.<minor>.<patch>.
  write_wrapper "$kdir/src/kubernetes" k8s.io/kubernetes "$k8s_version" "v0.${k8s_version#v1.}" \
    "${k8s_cmds[@]/#/k8s.io/kubernetes/cmd/}"
  # Unstamped binaries report v0.0.0-master; stamp as upstream's hack/lib/version.sh does.
  minor=${k8s_version#v1.}; minor=${minor%%.*}
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date -X $p.gitCommit="
  done
  local cgo0=() c
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$bin/$c" ] || cgo0+=("k8s.io/kubernetes/cmd/$c")
  done
  rm -rf "$kdir/bin.tmp" && mkdir -p "$kdir/bin.tmp"
  # Upstream builds the control plane and kubectl static (no cgo) and the kubelet with cgo.
  if [ ${#cgo0[@]} -gt 0 ]; then
    t1=$(now)
    log "go build ${cgo0[*]##*/} (CGO_ENABLED=0)"
    (cd "$kdir/src/kubernetes" &&
      CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$kdir/bin.tmp/" "${cgo0[@]}")
    echo "control-plane+kubectl $(($(now) - t1))s" >>"$kdir/build-times.txt"
  fi
  if [ ! -x "$bin/kubelet" ]; then
    t1=$(now)
    log "go build kubelet (CGO_ENABLED=1)"
    (cd "$kdir/src/kubernetes" &&
      CGO_ENABLED=1 go build -trimpath -ldflags "$ldflags" -o "$kdir/bin.tmp/" k8s.io/kubernetes/cmd/kubelet)
    echo "kubelet $(($(now) - t1))s" >>"$kdir/build-times.txt"
  fi

  # etcd: server/go.mod replaces api, client and pkg with ../ paths; they share its version.
  if [ ! -x "$bin/etcd" ]; then
    t1=$(now)
    write_wrapper "$kdir/src/etcd" go.etcd.io/etcd/server/v3 "$etcd_version" "$etcd_version" go.etcd.io/etcd/server/v3
    log "go build etcd (CGO_ENABLED=0)"
    (cd "$kdir/src/etcd" &&
      CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$kdir/bin.tmp/etcd" go.etcd.io/etcd/server/v3)
    echo "etcd $(($(now) - t1))s" >>"$kdir/build-times.txt"
  fi
  # Move into place only whole binaries, so an interrupted build never leaves a broken cache.
  for c in "$kdir"/bin.tmp/*; do [ -e "$c" ] && mv -f "$c" "$bin/"; done
  rmdir "$kdir/bin.tmp"
  echo "total $(($(now) - t0))s ($go_version, $(nproc) cores, $(date -u +%FT%TZ))" >>"$kdir/build-times.txt"
  log "built in $(($(now) - t0))s: $(cd "$bin" && echo *)"
  binaries_present || die "build finished but binaries are missing in $bin"
  exec 8>&-
}

containerd_present() {
  local c
  for c in "${containerd_cmds[@]}"; do [ -x "$cbin/$c" ] || return 1; done
}

# containerd, its runc shim and ctr as upstream's static release builds them (`make STATIC=1`:
# tags osusergo netgo static_build, the shim always without cgo), here all three with
# CGO_ENABLED=0 and without btrfs (its snapshotter needs cgo and btrfs headers; overlayfs is used).
# Built by a wrapper module: `go install ...@v1.7.35` refuses a module whose go.mod has `exclude`
# lines, and containerd's has one. The Go version is the one upstream releases it with (the
# GO_VERSION of its release Dockerfile). About a minute on two cores with the modules cached.
build_containerd() {
  containerd_present && return 0
  mkdir -p "$cdir"
  # One build at a time, as for Kubernetes.
  exec 7>"$cdir/build.lock"
  if ! flock -n 7; then
    log "waiting for another build of containerd $containerd_version to finish (lock $cdir/build.lock)"
    flock 7
  fi
  if containerd_present; then exec 7>&-; return 0; fi
  go_env
  local t0 mod=github.com/containerd/containerd src cgo_version c
  t0=$(now)
  src=$(GOTOOLCHAIN=local go mod download -json "$mod@$containerd_version" | json_field Dir)
  [ -d "$src" ] || die "could not download $mod@$containerd_version"
  cgo_version=go$(sed -n 's/^ARG GO_VERSION=\([0-9][0-9.]*\)$/\1/p' "$src/.github/workflows/release/Dockerfile" 2>/dev/null)
  [ "$cgo_version" != go ] || die "no GO_VERSION in $src/.github/workflows/release/Dockerfile"
  export GOTOOLCHAIN=$cgo_version
  log "building containerd $containerd_version with $cgo_version (about a minute on two cores, more when the toolchain and modules are downloaded)"
  write_wrapper "$cdir/src" "$mod" "$containerd_version" "$containerd_version" \
    "${containerd_cmds[@]/#/$mod/cmd/}"
  rm -rf "$cdir/bin.tmp" && mkdir -p "$cdir/bin.tmp" "$cbin"
  log "go build ${containerd_cmds[*]} (CGO_ENABLED=0)"
  (cd "$cdir/src" && CGO_ENABLED=0 go build -trimpath \
    -tags "urfave_cli_no_docs osusergo netgo static_build no_btrfs" \
    -ldflags "-s -w -X $mod/version.Version=$containerd_version" -o "$cdir/bin.tmp/" \
    "${containerd_cmds[@]/#/$mod/cmd/}")
  # Move into place only whole binaries, so an interrupted build never leaves a broken cache.
  for c in "$cdir"/bin.tmp/*; do [ -e "$c" ] && mv -f "$c" "$cbin/"; done
  rmdir "$cdir/bin.tmp"
  echo "containerd $(($(now) - t0))s ($cgo_version, $(nproc) cores, $(date -u +%FT%TZ))" >>"$cdir/build-times.txt"
  log "built containerd $containerd_version in $(($(now) - t0))s: $(cd "$cbin" && echo *)"
  containerd_present || die "build finished but containerd binaries are missing in $cbin"
  exec 7>&-
}

# ---------------------------------------------------------------------------------------------
# Certificates, kubeconfigs, configs
# ---------------------------------------------------------------------------------------------

# The address the apiserver advertises and the kubelet registers: the one on the default route's
# interface, else the first global one that is no container bridge. Loopback will not do.
node_ip() {
  local dev ip
  dev=$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
  [ -n "$dev" ] && ip=$(ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}')
  [ -n "${ip:-}" ] || ip=$(ip -4 -o addr show scope global |
    awk '$2 !~ /^(docker|cni|br-|veth)/ {split($4, a, "/"); print a[1]; exit}')
  [ -n "${ip:-}" ] || die "no non-loopback IPv4 address on this machine for the node"
  echo "$ip"
}

# Issues $1.crt/$1.key signed by the cluster CA with subject $2 and the extensions in $3.
issue_cert() {
  local name=$1 subj=$2 ext=$3
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -out "$pki/$name.csr" \
    -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -extfile <(printf '%s\n' "$ext") -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr"
  chmod 600 "$pki/$name.key"
}

client_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'

ensure_certs() {
  mkdir -p "$pki" && chmod 755 "$state" && chmod 700 "$pki"
  if [ ! -s "$pki/ca.crt" ] || [ ! -s "$pki/ca.key" ]; then
    log "creating the cluster CA"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 \
      -subj "/CN=cook-ground-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    chmod 600 "$pki/ca.key"
    rm -f "$pki"/*.crt.sans "$pki"/admin.crt "$pki"/apiserver.crt "$pki"/apiserver-kubelet-client.crt \
      "$pki"/kubelet.crt "$pki"/controller-manager.crt "$pki"/scheduler.crt
  fi
  # The serving cert names the node IP: issue it again when the address changed.
  local sans="IP:127.0.0.1,IP:$node_ip,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default"
  sans+=",DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  if [ ! -s "$pki/apiserver.crt" ] || [ "$(cat "$pki/apiserver.crt.sans" 2>/dev/null)" != "$sans" ]; then
    log "issuing the apiserver serving certificate for $sans"
    issue_cert apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans"
    echo "$sans" >"$pki/apiserver.crt.sans"
  fi
  if [ ! -s "$pki/sa.key" ] || [ ! -s "$pki/sa.pub" ]; then
    log "creating the service-account signing key pair"
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    chmod 600 "$pki/sa.key"
  fi
  # Each component gets the identity the built-in RBAC (or the Node authorizer) expects.
  local spec name subj
  for spec in "admin|/O=system:masters/CN=cook-ground-admin" \
    "apiserver-kubelet-client|/O=system:masters/CN=kube-apiserver-kubelet-client" \
    "controller-manager|/CN=system:kube-controller-manager" \
    "scheduler|/CN=system:kube-scheduler" \
    "kubelet|/O=system:nodes/CN=system:node:$node_name"; do
    name=${spec%%|*} subj=${spec#*|}
    if [ ! -s "$pki/$name.crt" ]; then
      log "issuing the client certificate $name ($subj)"
      issue_cert "$name" "$subj" "$client_ext"
    fi
  done
}

# Writes a kubeconfig with everything embedded, so it can be copied or mounted anywhere.
write_kubeconfig() {
  local file=$1 user=$2 server=$3
  umask 077
  cat >"$file.new" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cook-ground
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$pki/$user.crt")
    client-key-data: $(base64 -w0 <"$pki/$user.key")
contexts:
- name: cook-ground
  context:
    cluster: cook-ground
    user: $user
    namespace: default
current-context: cook-ground
EOF
  umask 022
  if cmp -s "$file.new" "$file"; then rm -f "$file.new"; else mv "$file.new" "$file"; fi
}

# Renders a template from cluster/ (@NAME@ placeholders) to $2, and says whether it changed.
render() {
  local template=$assets/$1 out=$2
  sed -e "s|@STATE@|$state|g" -e "s|@PKI@|$pki|g" -e "s|@PAUSE_IMAGE@|$pause_image|g" \
    -e "s|@RESOLV_CONF@|$resolv_conf|g" -e "s|@SOCKET@|$containerd_sock|g" \
    -e "s|@CONTAINERD_ROOT@|$containerd_root|g" -e "s|@CONTAINERD_STATE@|$containerd_state|g" \
    -e "s|@SUBNET@|10.88.0.0/16|g" -e "s|@CNI_NET@|$cni_net|g" "$template" >"$out.new"
  if cmp -s "$out.new" "$out"; then rm -f "$out.new"; return 1; fi
  mv "$out.new" "$out"
}

ensure_configs() {
  local server=https://127.0.0.1:6443 k
  mkdir -p "$state/kubeconfig"
  write_kubeconfig "$state/kubeconfig/admin.yaml" admin "$server"
  for k in controller-manager scheduler kubelet; do
    write_kubeconfig "$state/kubeconfig/$k.yaml" "$k" "$server"
  done
  # Pods get the host's resolver file; a systemd-resolved stub (127.0.0.53) would not answer
  # inside a pod's network namespace, so take the upstream list then.
  resolv_conf=/etc/resolv.conf
  if grep -q '^nameserver 127\.' /etc/resolv.conf 2>/dev/null && [ -s /run/systemd/resolve/resolv.conf ]; then
    resolv_conf=/run/systemd/resolve/resolv.conf
  fi
  mkdir -p "$state/containerd" "$(dirname "$cni_conf")"
  containerd_config_changed=
  render containerd.toml "$state/containerd/config.toml" && containerd_config_changed=1
  kubelet_config_changed=
  render kubelet.yaml "$state/kubelet.yaml" && kubelet_config_changed=1
  render cni.conflist "$cni_conf" || true
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

# A pidfile holds the pid and the binary, so a reused pid is never mistaken for ours. A binary
# replaced on disk while it runs (a rebuild) reads "<path> (deleted)": still ours, and `down` and
# the containerd version check must still find it.
proc_pid() {
  local f=$run/$1.pid pid exe running
  [ -s "$f" ] || return 1
  { read -r pid; read -r exe; } <"$f"
  kill -0 "$pid" 2>/dev/null || return 1
  running=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "$running" = "$exe" ] || [ "$running" = "$exe (deleted)" ] || return 1
  echo "$pid"
}

start_proc() {
  local name=$1 pid
  shift
  if pid=$(proc_pid "$name"); then
    log "$name is running (pid $pid)"
    return 0
  fi
  mkdir -p "$run" "$logs"
  log "starting $name (log $logs/$name.log)"
  echo "--- $(date -u +%FT%TZ) $*" >>"$logs/$name.log"
  # setsid: the daemons outlive this script and are not hit by signals meant for its caller. They
  # must not inherit the lock files (7, 8, 9) or the caller's stdout (3): they would hold the locks
  # and keep a caller's pipe open forever.
  setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null 3>&- 7>&- 8>&- 9>&- &
  printf '%s\n%s\n' "$!" "$(readlink -f "$(command -v "$1")")" >"$run/$name.pid"
}

# Stops the named processes together (each takes a second or two to shut down gracefully):
# SIGTERM, then SIGKILL for whatever still runs after 10 s.
stop_proc() {
  local name pid pids=() i
  for name in "$@"; do
    if pid=$(proc_pid "$name"); then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  alive() { local p; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
  if [ ${#pids[@]} -gt 0 ]; then
    for i in $(seq 1 100); do alive || break; sleep 0.1; done
    if alive; then
      log "still running after 10s: SIGKILL to ${pids[*]}"
      kill -KILL "${pids[@]}" 2>/dev/null || true
      for i in $(seq 1 50); do alive || break; sleep 0.1; done
    fi
  fi
  for name in "$@"; do rm -f "$run/$name.pid"; done
}

# Waits at most $2 seconds until a command succeeds, naming what it waits for ($1). When the
# process $3 (a pidfile name, or -) dies meanwhile, fails at once with the end of its log.
wait_for() {
  local what=$1 seconds=$2 proc=$3 deadline
  shift 3
  deadline=$(($(now) + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$proc" != - ] && ! proc_pid "$proc" >/dev/null; then
      tail -n 30 "$logs/$proc.log" >&2 2>/dev/null || true
      die "$proc exited while waiting for $what (log $logs/$proc.log)"
    fi
    if [ "$(now)" -ge "$deadline" ]; then
      [ "$proc" != - ] && tail -n 30 "$logs/$proc.log" >&2 2>/dev/null
      die "timed out after ${seconds}s waiting for $what"
    fi
    sleep 1
  done
}

kubectl_admin() { "$bin/kubectl" --kubeconfig "$state/kubeconfig/admin.yaml" --request-timeout=5s "$@"; }
# The ctr of our containerd build ($ctr_bin; `down` may fall back to another, see there).
ctr_k8s() { "$ctr_bin" --address "$containerd_sock" --namespace k8s.io "$@"; }

containerd_answers() { timeout 5 "$ctr_bin" --address "$containerd_sock" version >/dev/null 2>&1; }
cri_ready() { timeout 5 "$ctr_bin" --address "$containerd_sock" plugins ls 2>/dev/null | grep 'io.containerd.grpc.v1.*cri.*ok' >/dev/null; }

# The gRPC socket the containerd with pid $1 listens on. One started by an older version of this
# script may listen elsewhere than $containerd_sock (Debian's, at /run/containerd/containerd.sock).
listening_socket() {
  ss -xlpH 2>/dev/null | awk -v p="pid=$1," 'index($0, p) && $5 ~ /\/containerd\.sock$/ { print $5; exit }'
}

ensure_containerd() {
  apt_install runc containernetworking-plugins iptables
  build_containerd
  local pid running
  if pid=$(proc_pid containerd) && running=$(readlink "/proc/$pid/exe") &&
    [ "$running" != "$(readlink -f "$cbin/containerd")" ]; then
    # Another containerd binary (another version, or this one rebuilt). Restarting only containerd
    # would leave its pods' containers, sandboxes and network namespaces to outlive it, unseen by
    # the new one; so the whole cluster goes down first, exactly as `cluster.sh down` takes it
    # (etcd too), and this `up` brings it up again on the new binary.
    log "the running containerd is $running, not $cbin/containerd: taking the cluster down first"
    cmd_down
  elif [ -n "${containerd_config_changed:-}" ] && proc_pid containerd >/dev/null; then
    log "containerd's config changed: restarting it"
    stop_proc containerd
  fi
  if ! proc_pid containerd >/dev/null && containerd_answers; then
    die "a containerd this script did not start answers at $containerd_sock; stop it first"
  fi
  # Its PATH leads to the shim of the same build (containerd looks up containerd-shim-runc-v2 there).
  PATH="$cbin:$PATH" start_proc containerd "$cbin/containerd" --config "$state/containerd/config.toml"
  wait_for "containerd's CRI plugin at $containerd_sock" 30 containerd cri_ready
}

# The sandbox ("pause") image: nothing can be pulled, so it is compiled here and imported under
# exactly the name containerd's sandbox_image gives.
ensure_pause_image() {
  if ctr_k8s images ls -q 2>/dev/null | grep -xF "$pause_image" >/dev/null; then return 0; fi
  apt_install gcc libc6-dev
  log "building the pause image $pause_image"
  wait_for "the Docker engine (docker info), to build the pause image" 120 - docker info
  local tmp
  tmp=$(mktemp -d)
  gcc -static -Os -s -o "$tmp/pause" "$assets/pause/pause.c"
  cp "$assets/pause/Dockerfile" "$tmp/"
  docker build -q -t "$pause_image" "$tmp" >&2
  rm -rf "$tmp"
  docker save "$pause_image" | ctr_k8s images import - >&2
  ctr_k8s images ls -q | grep -xF "$pause_image" >/dev/null || die "$pause_image is not in containerd after the import"
}

etcd_healthy() { curl -fsS --max-time 2 http://127.0.0.1:2379/health | grep '"health":"true"' >/dev/null; }
node_ready() {
  [ "$(kubectl_admin get node "$node_name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

start_control_plane() {
  start_proc etcd "$bin/etcd" --name="$node_name" --data-dir="$state/etcd" \
    --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster="$node_name=http://127.0.0.1:2380" --listen-metrics-urls=http://127.0.0.1:2381 \
    --unsafe-no-fsync
  wait_for "etcd /health at 127.0.0.1:2379" 60 etcd etcd_healthy

  start_proc kube-apiserver "$bin/kube-apiserver" \
    --advertise-address="$node_ip" --secure-port=6443 \
    --etcd-servers=http://127.0.0.1:2379 \
    --service-cluster-ip-range=10.96.0.0/12 \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --client-ca-file="$pki/ca.crt" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --profiling=false
  wait_for "kube-apiserver /readyz at https://127.0.0.1:6443" 120 kube-apiserver kubectl_admin get --raw=/readyz

  start_proc kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig="$state/kubeconfig/controller-manager.yaml" \
    --authentication-kubeconfig="$state/kubeconfig/controller-manager.yaml" \
    --authorization-kubeconfig="$state/kubeconfig/controller-manager.yaml" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --controllers='*' --use-service-account-credentials \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --profiling=false

  start_proc kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig="$state/kubeconfig/scheduler.yaml" \
    --authentication-kubeconfig="$state/kubeconfig/scheduler.yaml" \
    --authorization-kubeconfig="$state/kubeconfig/scheduler.yaml" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

# The kubelet sets these kernel tunables for itself (protectKernelDefaults: false); `down` puts
# back what the machine had before the first `up`, so a panic_on_oops=1 does not outlive the cluster.
kernel_tunables=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

save_sysctls() {
  [ -s "$state/sysctl.orig" ] && return 0
  local k
  for k in "${kernel_tunables[@]}"; do
    [ -e "/proc/sys/${k//.//}" ] && echo "$k=$(cat "/proc/sys/${k//.//}")"
  done >"$state/sysctl.orig"
}

restore_sysctls() {
  [ -s "$state/sysctl.orig" ] || return 0
  local line
  while read -r line; do
    echo "${line#*=}" >"/proc/sys/$(echo "${line%%=*}" | tr . /)" 2>/dev/null || log "could not restore $line"
  done <"$state/sysctl.orig"
  rm -f "$state/sysctl.orig"
}

start_kubelet() {
  mkdir -p "$kubelet_root"
  if [ -n "${kubelet_config_changed:-}" ] && proc_pid kubelet >/dev/null; then
    log "the kubelet's config changed: restarting it"
    stop_proc kubelet
  fi
  proc_pid kubelet >/dev/null || save_sysctls
  start_proc kubelet "$bin/kubelet" --config="$state/kubelet.yaml" \
    --kubeconfig="$state/kubeconfig/kubelet.yaml" --root-dir="$kubelet_root" \
    --hostname-override="$node_name" --node-ip="$node_ip"
}

print_env() {
  # Run through sudo: the caller (who runs the tests) gets to read the admin kubeconfig.
  if [ -n "${SUDO_UID:-}" ] && [ "${SUDO_UID}" != 0 ]; then
    chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$state/kubeconfig/admin.yaml"
  fi
  printf 'KUBECONFIG=%s\nKUBECTL=%s\n' "$state/kubeconfig/admin.yaml" "$bin/kubectl" >&3
}

cmd_up() {
  local t0
  t0=$(now)
  apt_install openssl curl iproute2 util-linux
  # Everything that needs no Kubernetes binary first: on a cold machine it is ready by the time
  # a build started earlier (`cluster.sh build &`) finishes.
  node_ip=$(node_ip)
  ensure_certs
  ensure_configs
  ensure_containerd
  ensure_pause_image
  build_binaries
  start_control_plane
  start_kubelet
  wait_for "node $node_name to be Ready" 180 kubelet node_ready
  wait_for "the ServiceAccount default/default" 120 kube-controller-manager kubectl_admin -n default get serviceaccount default
  wait_for "the ConfigMap default/kube-root-ca.crt" 120 kube-controller-manager kubectl_admin -n default get configmap kube-root-ca.crt
  log "cluster up in $(($(now) - t0))s: Kubernetes $k8s_version, node $node_name ($node_ip)"
  print_env
}

# Stops the pods behind the kubelet's back (it is stopped first, so it cannot restart them), then
# cleans what their network teardown would have: the pods' network namespaces and IP leases.
remove_pods() {
  containerd_answers || return 0
  local ids id
  ids=$(ctr_k8s tasks ls -q 2>/dev/null || true)
  if [ -n "$ids" ]; then
    log "stopping $(echo "$ids" | wc -l) pod containers"
    for id in $ids; do ctr_k8s tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    # (timeout runs commands, not shell functions: hence ctr spelled out)
    for id in $ids; do
      timeout 20 "$ctr_bin" --address "$containerd_sock" --namespace k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  for id in $(ctr_k8s containers ls -q 2>/dev/null || true); do
    ctr_k8s containers delete "$id" >/dev/null 2>&1 || true
  done
}

# Unmounts everything at or below $1, deepest first.
unmount_below() {
  local m
  awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

cmd_down() {
  # Reach the running containerd where it listens, and clean its state dir (the socket's folder in
  # every config this script has used): after an upgrade of this script it may be an older one.
  local pid sock containerd_sock=$containerd_sock containerd_state=$containerd_state ctr_bin=$ctr_bin
  if pid=$(proc_pid containerd) && sock=$(listening_socket "$pid") && [ -n "$sock" ] &&
    [ "$sock" != "$containerd_sock" ]; then
    log "containerd (pid $pid) listens at $sock"
    containerd_sock=$sock containerd_state=${sock%/*}
  fi
  # Before any `up` of this version there is no ctr of ours yet: the system's (Debian's) will do.
  [ -x "$ctr_bin" ] || ctr_bin=$(command -v ctr || echo "$ctr_bin")
  stop_proc kubelet
  restore_sysctls
  if proc_pid containerd >/dev/null; then remove_pods; fi
  stop_proc kube-scheduler kube-controller-manager kube-apiserver
  stop_proc etcd
  stop_proc containerd
  containerd_answers || rm -f "$containerd_sock" "$containerd_sock.ttrpc"
  # Shims of pods whose containers could not be deleted: those of our build (or of the containerd
  # just stopped, which may be another build), in the k8s.io namespace and for our socket only.
  for pid in $(pgrep -f -- "^[^ ]*/containerd-shim-runc-v2 -namespace k8s.io " || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -- "-namespace k8s.io .*-address $containerd_sock " >/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # What the kubelet and the CRI plugin leave mounted when stopped under their pods.
  # (the kubelet also bind-mounts its root dir onto itself to make it rshared)
  unmount_below "$kubelet_root"
  unmount_below "$containerd_state/io.containerd.grpc.v1.cri"
  unmount_below "$containerd_state/io.containerd.runtime.v2.task/k8s.io"
  local ns
  for ns in /run/netns/cni-*; do
    [ -e "$ns" ] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
  done
  rm -rf "/var/lib/cni/networks/$cni_net"
  [ -d "$kubelet_root/pods" ] && rm -rf --one-file-system "$kubelet_root/pods"
  # The next `up` starts from an empty cluster; certificates and images are kept.
  rm -rf "$state/etcd"
  log "cluster down"
}

# Loads an image once per Docker image ID: a second load of an unchanged image is a no-op.
cmd_load() {
  local image=${1:-} id marker
  [ -n "$image" ] || die "usage: cluster.sh load IMAGE"
  containerd_answers && proc_pid containerd >/dev/null || die "the cluster's containerd is not running: run cluster.sh up first"
  id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) || die "no image $image in the Docker engine"
  marker=$state/loaded/$(printf '%s' "$image" | tr '/:' '__')
  if [ "$(cat "$marker" 2>/dev/null)" = "$id" ] && ctr_k8s images ls -q | grep -xF "$(qualified "$image")" >/dev/null; then
    log "$image ($id) is in the cluster already"
    return 0
  fi
  log "loading $image into containerd (namespace k8s.io)"
  docker save "$image" | ctr_k8s images import - >&2
  mkdir -p "$state/loaded"
  echo "$id" >"$marker"
}

# The name containerd stores an image under: Docker's short names are qualified as Docker Hub's.
qualified() {
  local name=$1 first=${1%%/*}
  case "$name" in
    */*) ;;
    *) name=library/$name ;;
  esac
  if [[ "$name" != */* || ( "$first" != *.* && "$first" != *:* && "$first" != localhost ) ]]; then
    name=docker.io/$name
  fi
  [[ "${name##*/}" == *:* || "$name" == *@* ]] || name=$name:latest
  echo "$name"
}

# stdout is for KEY=VALUE lines only: everything else, including tools' chatter, goes to stderr.
exec 3>&1 1>&2
mkdir -p "$cache"
case "${1:-}" in
build) build_containerd; build_binaries; log "binaries in $cbin and $bin" ;;
up | down | load)
  # One up/down/load at a time.
  exec 9>"$cache/cluster.lock"
  flock 9
  "cmd_$1" "${@:2}"
  ;;
*) die "usage: cluster.sh up | down | load IMAGE | build" ;;
esac
exit 0
