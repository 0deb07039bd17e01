#!/usr/bin/env bash
# Starts a real control plane on 127.0.0.1 in DIR: etcd and kube-apiserver (RBAC on, token authentication, a
# service-account signing key), and kube-controller-manager running the ClusterRole aggregation controller
# only (so that roles labelled aggregate-to-edit/view reach the built-in roles), built by build.sh. Waits for
# /readyz, then writes:
#   DIR/admin.kubeconfig     system:masters, by a static token
#   DIR/operator.kubeconfig  the operator's ServiceAccount (bucket-access-operator/bucket-access-operator),
#                            by a TokenRequest token, so that only the RBAC of deploy/ grants it anything
#   DIR/env                  BIN, KUBECONFIG (admin), SERVER, ETCD_PID, APISERVER_PID, KCM_PID, for stop.sh
# Ports are free ones chosen at start. No other controller runs (no garbage collection, no namespace
# finalisation): the tests do not rely on them. Usage: start.sh DIR (DIR is created). Stop: stop.sh DIR
set -euo pipefail
DIR=${1:?usage: start.sh DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$("$HERE/build.sh")}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ETCD_PORT=$(free_port); PEER_PORT=$(free_port); PORT=$(free_port)
SERVER="https://127.0.0.1:$PORT"

"$BIN/etcd" --name e2e --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "e2e=http://127.0.0.1:$PEER_PORT" --unsafe-no-fsync --log-level warn \
  >"$DIR/etcd.log" 2>&1 &
ETCD_PID=$!

[ -f "$DIR/sa.key" ] || openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
TOKEN=$(python3 -c 'import secrets;print(secrets.token_hex(16))')
echo "$TOKEN,admin,admin,\"system:masters\"" >"$DIR/tokens.csv"

# --endpoint-reconciler-type=none: the default reconciler refuses a loopback advertise address.
"$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT" --cert-dir "$DIR/pki" \
  --authorization-mode RBAC --token-auth-file "$DIR/tokens.csv" \
  --service-account-issuer "$SERVER" --service-account-key-file "$DIR/sa.pub" \
  --service-account-signing-key-file "$DIR/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
  --disable-admission-plugins ServiceAccount --endpoint-reconciler-type none \
  >"$DIR/apiserver.log" 2>&1 &
APISERVER_PID=$!

cat >"$DIR/env" <<EOF
BIN=$BIN
KUBECONFIG=$DIR/admin.kubeconfig
SERVER=$SERVER
ETCD_PID=$ETCD_PID
APISERVER_PID=$APISERVER_PID
EOF

fail() {
  echo "start.sh: $1" >&2
  tail -20 "$DIR/etcd.log" "$DIR/apiserver.log" >&2 || true
  "$HERE/stop.sh" "$DIR" || true
  exit 1
}

for _ in $(seq 1 120); do
  if [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$SERVER/readyz")" = 200 ]; then
    ready=1
    break
  fi
  kill -0 "$APISERVER_PID" 2>/dev/null || fail "kube-apiserver exited"
  kill -0 "$ETCD_PID" 2>/dev/null || fail "etcd exited"
  sleep 0.5
done
[ "${ready:-}" = 1 ] || fail "kube-apiserver not ready within 60 s"

# The serving certificate is self-signed into pki/apiserver.crt (the bundle holds its CA).
kubeconfig() { # file user token
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "$SERVER", certificate-authority: "$DIR/pki/apiserver.crt"}
users:
- name: $2
  user: {token: "$3"}
contexts:
- name: e2e
  context: {cluster: e2e, user: $2, namespace: default}
current-context: e2e
EOF
}
kubeconfig "$DIR/admin.kubeconfig" admin "$TOKEN"
KUBECTL=("$BIN/kubectl" --kubeconfig "$DIR/admin.kubeconfig")

# The operator's namespace and ServiceAccount (from deploy/base), and a token for it.
"${KUBECTL[@]}" apply -f "$ROOT/deploy/base/namespace.yaml" >/dev/null
"${KUBECTL[@]}" apply -n bucket-access-operator -f "$ROOT/deploy/base/serviceaccount.yaml" >/dev/null
SA_TOKEN=$("${KUBECTL[@]}" -n bucket-access-operator create token bucket-access-operator --duration 24h)
kubeconfig "$DIR/operator.kubeconfig" system:serviceaccount:bucket-access-operator:bucket-access-operator "$SA_TOKEN"
# The ClusterRole aggregation controller, and nothing else; no serving port.
"$BIN/kube-controller-manager" --kubeconfig "$DIR/admin.kubeconfig" --controllers clusterrole-aggregation-controller \
  --leader-elect=false --secure-port 0 --bind-address 127.0.0.1 >"$DIR/controller-manager.log" 2>&1 &
echo "KCM_PID=$!" >>"$DIR/env"
echo "$DIR"
