#!/usr/bin/env bash
# Builds the e2e cluster's binaries into a cache outside the repository, keyed by version, and
# reuses them when present (the Go module and build caches make a rebuild after a version bump
# fast too). Usage: build.sh <metacontroller source dir>; prints one line per binary.
#
# - etcd v3.6.16 (>= 3.5.13 is needed: older etcd lacks the watch progress notifications
#   kube-apiserver waits for) through a one-line wrapper module.
# - kube-apiserver v1.36.3: k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the
#   staging modules with local paths), so a wrapper module requires it and replaces every staging
#   module k8s.io/<name> with its published v0.36.3.
# - Metacontroller from its source directory, keyed by the commit named in its SOURCE.md.
# - kube-controller-manager v1.36.3 from the same wrapper module (namespace deletion needs its
#   namespace and garbage-collector controllers).
# Measured on 2 cores with empty caches: etcd ~1.5 min, kube-apiserver ~8-15 min, Metacontroller ~5 min.
set -euo pipefail
MC_SRC=${1:?usage: build.sh <metacontroller source dir>}
CACHE=${ROUTEDIP_E2E_CACHE:-$HOME/.cache/routedip-e2e}
K8S=${K8S_VERSION:-v1.36.3}
ETCD=${ETCD_VERSION:-v3.6.16}
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs "$2..." to produce $1 unless it exists, one builder at a time per output (flock), timed.
cached() {
  local out=$1; shift
  exec 9>"$out.lock"
  flock 9
  if [ -x "$out" ]; then echo "cached $out"; exec 9>&-; return 0; fi
  local start=$SECONDS
  echo "building $out (a first build takes minutes; later runs reuse it)"
  "$@" "$out.tmp"
  mv "$out.tmp" "$out"
  echo "built $out in $((SECONDS - start)) s"
  exec 9>&-
}

etcd() {
  local d="$work/etcd"; mkdir -p "$d"; cd "$d"
  go mod init e2e/etcd >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD" >/dev/null 2>&1
  go build -o "$1" go.etcd.io/etcd/server/v3
}

# A wrapper module for k8s.io/kubernetes $K8S in $1 (see the header), shared by its commands.
k8s_module() {
  local d=$1; mkdir -p "$d"; cd "$d"
  [ -f go.mod ] && return 0
  local gomod staging="v0${K8S#v1}"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -nE 's/.*"GoMod": "(.*)".*/\1/p')
  { echo "module e2e/kubernetes"; echo "go 1.26"; echo "require k8s.io/kubernetes $K8S"
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" |
      awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'; } > go.mod
  go mod tidy >/dev/null 2>&1 || true
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S" "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S" >/dev/null 2>&1 || true
}

apiserver() {
  k8s_module "$work/kubernetes"
  go build -o "$1" k8s.io/kubernetes/cmd/kube-apiserver
}

# The namespace and garbage-collector controllers (namespace deletion): same module, same version.
controller_manager() {
  k8s_module "$work/kubernetes"
  go build -o "$1" k8s.io/kubernetes/cmd/kube-controller-manager
}

metacontroller() {
  cd "$MC_SRC" && go build -o "$1" ./pkg/cmd/metacontroller
}

commit=$(grep -oE '\b[0-9a-f]{40}\b' "$MC_SRC/SOURCE.md" | head -n 1)
[ -n "$commit" ] || { echo "no commit in $MC_SRC/SOURCE.md" >&2; exit 1; }
cached "$CACHE/etcd-$ETCD" etcd
cached "$CACHE/kube-apiserver-$K8S" apiserver
cached "$CACHE/kube-controller-manager-$K8S" controller_manager
cached "$CACHE/metacontroller-${commit:0:12}" metacontroller
