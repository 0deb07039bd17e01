#!/usr/bin/env bash
# Stops the control plane that start.sh started in DIR (controller manager, kube-apiserver, then etcd). Usage: stop.sh DIR
set -uo pipefail
DIR=${1:?usage: stop.sh DIR}
[ -f "$DIR/env" ] || exit 0
# shellcheck disable=SC1091
. "$DIR/env"
for pid in "${KCM_PID:-}" "${APISERVER_PID:-}" "${ETCD_PID:-}"; do
  [ -n "$pid" ] || continue
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done
exit 0
