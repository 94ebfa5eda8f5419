#!/usr/bin/env bash
# `make run-cluster`: three parc-servers on 127.0.0.1, each an etcd member
# of one embedded cluster, started as docs/scaling.md tells an operator to:
# one CA made with parc-server init-ca and copied into every data dir, the
# same initial cluster on every member. Data in .run/cluster/; Ctrl-C stops
# all three. Kill one (its pid is printed) and watch parcctl cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
BASE=${PARC_CLUSTER_BASE_PORT:-18440} # APIs on BASE+1..3, etcd clients BASE+11..13, peers BASE+21..23
RUN=.run/cluster
mkdir -p "$RUN"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped. Data kept in $RUN/ (make clean-run to forget it)."
}
trap stop INT TERM EXIT

if [ ! -s "$RUN/ca/ca.key" ]; then
  "$BIN/parc-server" init-ca --data-dir "$RUN/ca"
fi
initial=""
for i in 1 2 3; do
  initial="${initial:+$initial,}m$i=http://127.0.0.1:$((BASE + 20 + i))"
done
for i in 1 2 3; do
  dir="$RUN/m$i"
  mkdir -p "$dir" && chmod 700 "$dir"
  [ -s "$dir/ca.key" ] || install -m 600 "$RUN/ca/ca.crt" "$RUN/ca/ca.key" "$dir/"
  "$BIN/parc-server" --data-dir "$dir" --name "m$i" --listen "127.0.0.1:$((BASE + i))" \
    --etcd-name "m$i" --etcd-client-url "http://127.0.0.1:$((BASE + 10 + i))" \
    --etcd-peer-url "http://127.0.0.1:$((BASE + 20 + i))" \
    --etcd-initial-cluster "$initial" --etcd-initial-cluster-state new --etcd-initial-cluster-token parc-local \
    2> >(trap '' INT TERM; sed -u "s/^/[m$i] /" >&2) &
  pids+=($!)
done

# One member bootstraps the cluster and writes the admin token.
token=""
for _ in $(seq 1 300); do
  token=$(ls "$RUN"/m*/admin.token 2>/dev/null | head -n1 || true)
  [ -n "$token" ] && break
  sleep 0.2
done
[ -n "$token" ] || { echo "no member became ready; see the lines above" >&2; exit 1; }
for i in 1 2 3; do install -m 600 "$token" "$RUN/m$i/admin.token" 2>/dev/null || true; done

export PARC_SERVER="https://127.0.0.1:$((BASE + 1))" PARC_TOKEN_FILE="$PWD/$RUN/m1/admin.token" PARC_CA_FILE="$PWD/$RUN/ca/ca.crt"
"$BIN/parcctl" status --wait 60s >/dev/null
for _ in $(seq 1 100); do
  out=$("$BIN/parcctl" cluster 2>/dev/null || true)
  case "$out" in *"replicas running: m1, m2, m3"*) break ;; esac
  sleep 0.2
done
echo "$out"

cat <<MSG

parc runs as a 3-member cluster (pids ${pids[*]}).
  replicas: https://127.0.0.1:$((BASE + 1)) https://127.0.0.1:$((BASE + 2)) https://127.0.0.1:$((BASE + 3))
From another terminal:
  export PARC_SERVER=$PARC_SERVER PARC_TOKEN_FILE=$PARC_TOKEN_FILE PARC_CA_FILE=$PARC_CA_FILE
  $BIN/parcctl cluster
  kill -9 <a pid above>; $BIN/parcctl --server https://127.0.0.1:$((BASE + 2)) cluster
  $BIN/parc-sim --server https://127.0.0.1:$((BASE + 2)) --agents 200 --interval 5s --duration 1m

Ctrl-C stops all three.
MSG
wait "${pids[@]}" || true
