#!/usr/bin/env bash
# Fails a pipeline when a BucketAccessCheck is not Allowed: waits for an evaluation of the current generation
# to finish (Reconciling=False), then requires Ready=True, and prints the summary when it is not.
# Usage: wait-for-check.sh NAME [NAMESPACE] [TIMEOUT]
set -euo pipefail
name=$1; ns=${2:-default}; timeout=${3:-15m}
kubectl -n "$ns" wait "bac/$name" --for=condition=Reconciling=False --timeout="$timeout"
if ! kubectl -n "$ns" wait "bac/$name" --for=condition=Ready --timeout=0s >/dev/null 2>&1; then
  echo "BucketAccessCheck $ns/$name is $(kubectl -n "$ns" get "bac/$name" -o jsonpath='{.status.verdict}'):" >&2
  kubectl -n "$ns" get "bac/$name" -o jsonpath='{.status.summary}{"\n"}' >&2
  exit 1
fi
echo "BucketAccessCheck $ns/$name: Allowed"
