#!/usr/bin/env bash
# `make demo`: moto seeded with the seed article's situations, a real control plane (tests/apiserver/), the
# chart from the repository (helm install), the operator under its ServiceAccount, and the checks of examples/.
# Everything listens on 127.0.0.1 and lives in .demo/ (state, logs, kubeconfigs). Stop: `make demo-stop`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
STATE=$ROOT/.demo
OPERATOR=${OPERATOR:-$ROOT/target/debug/bucket-access-operator}

if [ -f "$STATE/pids" ]; then
  echo "a demo is already running (state in .demo/): run \`make demo-stop\` first" >&2
  exit 1
fi
rm -rf "$STATE"
mkdir -p "$STATE"
# A failed start leaves nothing running behind it (the logs are printed first).
trap 'echo "demo: failed; the last lines of its logs:" >&2; tail -n 15 "$STATE"/*.log "$STATE"/cluster/*.log >&2 2>/dev/null; "$ROOT/demo/down.sh" >/dev/null' ERR

step() { printf '\n==> %s\n' "$*"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

step "building (or reusing) kube-apiserver, etcd and kubectl from Go modules"
BIN=$(tests/apiserver/build.sh)
export BIN
KUBECTL=("$BIN/kubectl" --kubeconfig "$STATE/cluster/admin.kubeconfig")

step "starting moto (the AWS stand-in) and seeding the seed article's situations"
MOTO_PORT=$(free_port)
.venv/bin/python tests/moto/server.py -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 &
echo "$!" >>"$STATE/pids"
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null && break
  sleep 0.5
done
.venv/bin/python tests/moto/seed.py "http://127.0.0.1:$MOTO_PORT" >"$STATE/seed.json"

step "starting etcd and kube-apiserver on 127.0.0.1"
tests/apiserver/start.sh "$STATE/cluster" >/dev/null
# stop.sh reads the control plane's pids from there.
echo "cluster" >"$STATE/cluster.started"

step "helm install (the chart's CRDs, RBAC and objects; the operator runs here, under the ServiceAccount) and the examples' scope"
HELM_CACHE_HOME=$STATE/helm HELM_CONFIG_HOME=$STATE/helm HELM_DATA_HOME=$STATE/helm \
  KUBECONFIG=$STATE/cluster/admin.kubeconfig "$BIN/helm" install bucket-access-operator deploy/helm/bucket-access-operator \
  -n bucket-access-operator --set serviceAccount.create=false >/dev/null
"${KUBECTL[@]}" wait --for=condition=Established crd/bucketaccesschecks.bucketaccess.io crd/bucketaccessscopes.bucketaccess.io --timeout=60s >/dev/null
"${KUBECTL[@]}" apply -f deploy/scopes/examples.yaml

step "starting the operator under its ServiceAccount (log: .demo/operator.log)"
# s3control's <account>.localhost host names reach moto through a local proxy (no /etc/hosts edit).
PROXY_PORT=$(free_port)
python3 demo/localhost-proxy.py "$PROXY_PORT" >"$STATE/proxy.log" 2>&1 &
echo "$!" >>"$STATE/pids"
METRICS_PORT=$(free_port)
(
  export KUBECONFIG=$STATE/cluster/operator.kubeconfig POD_NAMESPACE=bucket-access-operator
  export AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT AWS_ENDPOINT_URL_S3_CONTROL=http://localhost:$MOTO_PORT
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
  export HTTP_PROXY=http://127.0.0.1:$PROXY_PORT NO_PROXY=127.0.0.1
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
  exec "$OPERATOR" run --listen "127.0.0.1:$METRICS_PORT" --identity demo
) >"$STATE/operator.log" 2>&1 &
echo "$!" >>"$STATE/pids"

step "applying the example checks (examples/) and waiting for their verdicts"
"${KUBECTL[@]}" apply -f examples/
"${KUBECTL[@]}" wait bac --all --for=condition=Reconciling=False --timeout=180s >/dev/null
echo
"${KUBECTL[@]}" get bac -o wide

cat <<EOF

The demo is running (moto on 127.0.0.1:$MOTO_PORT, the operator's /metrics on 127.0.0.1:$METRICS_PORT).
Look around:
  export KUBECONFIG=$STATE/cluster/admin.kubeconfig PATH=$BIN:\$PATH
  kubectl get bac -o wide
  kubectl get bas -o wide                       # the scope that allows namespace default its checks
  kubectl describe bac storage-class            # the verdict, causes, remediation and Events
  kubectl get bac storage-class -o jsonpath='{.status.causes[0].remediation}'
  kubectl patch bac storage-class --type=merge -p '{"spec":{"upload":{"storageClass":"STANDARD_IA"}}}'
  deploy/gitops/ci/wait-for-check.sh storage-class default 60s   # the CI recipe
  curl -s 127.0.0.1:$METRICS_PORT/metrics | grep bucket_access
  less $STATE/operator.log
Stop it: make demo-stop
EOF
