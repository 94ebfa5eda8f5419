#!/usr/bin/env bash
# `make run`: parc-server on its embedded etcd plus an agent on this
# machine, both under .run/. Ctrl-C stops both cleanly. Data stays in .run/
# between runs (`make clean-run` forgets it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
PORT=${PARC_RUN_PORT:-8080}
ETCD_CLIENT=${PARC_RUN_ETCD_CLIENT_PORT:-2379}
ETCD_PEER=${PARC_RUN_ETCD_PEER_PORT:-2380}
RUN=.run
SERVER_URL="http://127.0.0.1:${PORT}"
mkdir -p "$RUN"

server_pid="" agent_pid=""
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stopped. Data kept in $RUN/ (make clean-run to forget it)."
}
trap stop INT TERM EXIT

"$BIN/parc-server" --data-dir "$RUN/server" --listen "127.0.0.1:${PORT}" \
  --etcd-client-url "http://127.0.0.1:${ETCD_CLIENT}" --etcd-peer-url "http://127.0.0.1:${ETCD_PEER}" \
  2> >(trap '' INT TERM; sed -u 's/^/[server] /' >&2) &
server_pid=$!

export PARC_SERVER="$SERVER_URL" PARC_TOKEN_FILE="$RUN/server/admin.token"
"$BIN/parcctl" status --wait 60s >/dev/null || { echo "parc-server did not become ready; see the lines above" >&2; exit 1; }

agent_args=(--server "$SERVER_URL" --state-dir "$RUN/agent" --interval 15s)
if [ ! -s "$RUN/agent/state.json" ]; then
  token=$("$BIN/parcctl" enroll-token create --role loaner --max-uses 1 --ttl 1h --quiet)
  agent_args+=(--enroll-token "$token")
fi
"$BIN/parc-agent" "${agent_args[@]}" 2> >(trap '' INT TERM; sed -u 's/^/[agent]  /' >&2) &
agent_pid=$!

cat <<MSG

parc is running.
  server:  $SERVER_URL   (data in $RUN/server, etcd log in $RUN/server/etcd.log)
  agent:   this machine, checking in every 15s (state in $RUN/agent)

Look at it from another terminal:
  export PARC_SERVER=$SERVER_URL PARC_TOKEN_FILE=$PWD/$RUN/server/admin.token
  $BIN/parcctl units list
  $BIN/parcctl units show <ID>

Ctrl-C stops both.
MSG
wait "$server_pid"
