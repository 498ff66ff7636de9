#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module
# proxy into a git-ignored cache folder, once. No prebuilt binary can be
# downloaded where driftback is developed and tested, so the real control plane
# is compiled from source (6-10 minutes cold on 2 cores, instant when cached).
#
#   hack/build-controlplane.sh            # prints the folder holding the binaries
#
# The folder is what KUBEBUILDER_ASSETS must point at for envtest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kube_version=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p; s/^\tk8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$root/hack/controlplane/go.mod" | head -n1)
etcd_version=$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\)$/\1/p' "$root/hack/etcd/go.mod")
cache=${DRIFTBACK_CACHE:-$root/.cache}
bin="$cache/controlplane/kube-${kube_version}-etcd-${etcd_version}"
mkdir -p "$bin"

say() { echo "build-controlplane: $*" >&2; }

major=${kube_version#v}; major=${major%%.*}
minor=${kube_version#v*.}; minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${kube_version} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done

build() { # name module-dir package
  local name=$1 dir=$2 pkg=$3
  if [ -x "$bin/$name" ]; then
    say "$name cached in $bin"
    return
  fi
  say "compiling $name (first time only; a few minutes on 2 cores)..."
  local start=$SECONDS
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  say "$name built in $((SECONDS - start))s"
}

build etcd "$root/hack/etcd" .
build kube-apiserver "$root/hack/controlplane" ./cmd/kube-apiserver
build kube-controller-manager "$root/hack/controlplane" ./cmd/kube-controller-manager
echo "$bin"
