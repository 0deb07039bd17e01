#!/usr/bin/env bash
# Builds a real kube-apiserver, kube-controller-manager, etcd, kubectl and helm from Go modules (the Go module
# proxy) for the end-to-end tests and `make demo`. The controller manager runs only the ClusterRole aggregation
# controller (the built-in admin/edit/view roles are filled by it). Binaries are cached outside the
# repository: $CACHE/bin/{kube-apiserver,kube-controller-manager,etcd,kubectl,helm,crane,actionlint};
# a second run does nothing. Prints the bin directory on stdout (build output goes to stderr).
#
# Two pitfalls this script avoids (found while probing):
# - k8s.io/kubernetes requires every staging module at v0.0.0 and replaces them with ./staging: each must be
#   replaced AND required at its published version, and k8s.io/kubernetes required explicitly; otherwise
#   `go get ...@v1.37.2` resolves k8s.io/kubernetes to v1.13.0.
# - k8s.io/kubernetes v1.37.x itself requires go.etcd.io/etcd/server/v3 v3.7.0: etcd 3.6.x must be built in
#   a Go module of its own, or version selection downgrades Kubernetes.
set -euo pipefail
K8S=${K8S:-1.37.2}
STAGING=${STAGING:-0.${K8S#1.}}
ETCD=${ETCD:-3.6.16}
HELM=${HELM:-4.3.2}
CACHE=${CACHE:-$HOME/.cache/bucket-access-operator/k8s-$K8S-etcd-$ETCD}
export GOFLAGS=-buildvcs=false CGO_ENABLED=0
mkdir -p "$CACHE/bin" "$CACHE/etcd" "$CACHE/kas" "$CACHE/helm"

if [ ! -x "$CACHE/bin/etcd" ]; then
  (cd "$CACHE/etcd" && rm -f go.mod go.sum && go mod init local.test/etcd >/dev/null 2>&1 \
    && go get -tool "go.etcd.io/etcd/server/v3@v$ETCD" \
    && go build -o "$CACHE/bin/etcd" go.etcd.io/etcd/server/v3) >&2
fi

if [ ! -x "$CACHE/bin/kube-apiserver" ] || [ ! -x "$CACHE/bin/kubectl" ] || [ ! -x "$CACHE/bin/kube-controller-manager" ]; then
  (
    cd "$CACHE/kas" && rm -f go.mod go.sum && go mod init local.test/apiserver >/dev/null 2>&1
    gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
    for m in $(awk '$1 ~ /^k8s\.io\// && $2=="v0.0.0" {print $1}' "$gomod"); do
      go mod edit "-replace=$m=$m@v$STAGING" "-require=$m@v$STAGING"
    done
    go mod edit "-require=k8s.io/kubernetes@v$K8S"
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S" "k8s.io/kubernetes/cmd/kubectl@v$K8S" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S"
    # Versioned like a release build, so that `kubectl version` and the server's /version say v$K8S.
    minor=$(echo "$K8S" | cut -d. -f2)
    ldflags=""
    for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
      ldflags="$ldflags -X $pkg.gitVersion=v$K8S -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    go build -ldflags "$ldflags" -o "$CACHE/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    go build -ldflags "$ldflags" -o "$CACHE/bin/kubectl" k8s.io/kubernetes/cmd/kubectl
    go build -ldflags "$ldflags" -o "$CACHE/bin/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
  ) >&2
fi
# helm 4, in a Go module of its own too (it pins its own Kubernetes libraries); rebuilt when $HELM changes.
if [ ! -x "$CACHE/bin/helm" ] || [ ! -f "$CACHE/helm/built-v$HELM" ]; then
  major=${HELM%%.*}
  (cd "$CACHE/helm" && rm -f go.mod go.sum built-v* && go mod init local.test/helm >/dev/null 2>&1 \
    && go get -tool "helm.sh/helm/v$major/cmd/helm@v$HELM" \
    && go build -ldflags "-X helm.sh/helm/v$major/internal/version.version=v$HELM" -o "$CACHE/bin/helm" "helm.sh/helm/v$major/cmd/helm" \
    && touch "built-v$HELM") >&2
fi
# crane (a local registry, push and pull for the image's test) and actionlint (the release workflow's check),
# each in a Go module of its own; rebuilt when their versions change.
CRANE=${CRANE:-0.22.1}
ACTIONLINT=${ACTIONLINT:-1.7.12}
tool() { # name module version package
  if [ ! -x "$CACHE/bin/$1" ] || [ ! -f "$CACHE/$1/built-v$3" ]; then
    mkdir -p "$CACHE/$1"
    (cd "$CACHE/$1" && rm -f go.mod go.sum built-v* && go mod init "local.test/$1" >/dev/null 2>&1 \
      && go get -tool "$4@v$3" && go build -o "$CACHE/bin/$1" "$4" && touch "built-v$3") >&2
  fi
}
tool crane github.com/google/go-containerregistry "$CRANE" github.com/google/go-containerregistry/cmd/crane
tool actionlint github.com/rhysd/actionlint "$ACTIONLINT" github.com/rhysd/actionlint/cmd/actionlint
echo "$CACHE/bin"
