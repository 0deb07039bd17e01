#!/usr/bin/env bash
# `make demo-stop`: stops what demo/up.sh started (operator, moto, kube-apiserver, etcd) and removes .demo/.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$ROOT/.demo
[ -d "$STATE" ] || { echo "no demo is running"; exit 0; }
if [ -f "$STATE/pids" ]; then
  while read -r pid; do
    kill "$pid" 2>/dev/null || true
  done <"$STATE/pids"
fi
[ -f "$STATE/cluster.started" ] && "$ROOT/tests/apiserver/stop.sh" "$STATE/cluster"
rm -rf "$STATE"
echo "demo stopped"
