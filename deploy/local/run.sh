#!/usr/bin/env bash
# `make run`: parc-server on its embedded etcd plus an agent on this
# machine, both under .run/. Ctrl-C stops both cleanly. Data stays in .run/
# between runs (`make clean-run` forgets it).
#
# The server serves HTTPS under the CA it makes on its first start
# (.run/server/ca.crt). parcctl trusts that file (PARC_CA_FILE); the agent
# does not need it: it pins the CA whose hash its enroll token carries.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
PORT=${PARC_RUN_PORT:-8080}
ETCD_CLIENT=${PARC_RUN_ETCD_CLIENT_PORT:-2379}
ETCD_PEER=${PARC_RUN_ETCD_PEER_PORT:-2380}
RUN=.run
SERVER_URL="https://127.0.0.1:${PORT}"
CA="$RUN/server/ca.crt"
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
# PARC_CA_FILE for parcctl only: the agent reads the same variable and
# would trust the file instead of pinning the CA through its token.
PARC_CA_FILE="$CA" "$BIN/parcctl" status --wait 60s >/dev/null || { echo "parc-server did not become ready; see the lines above" >&2; exit 1; }

# The agent's configuration: its plugins, each pinned by the SHA-256 of
# the binary just built, with the plugin's sample configuration.
{
  echo "# Written by make run: plugins of $BIN, with their SHA-256."
  echo "plugins:"
  echo "  dir: $BIN"
  echo "  timeout: 30s"
  echo "  list:"
  for p in avkiosk peripherals remotesupport software updates; do
    [ -x "$BIN/parc-plugin-$p" ] || continue
    echo "    - name: $p"
    echo "      sha256: \"$(sha256sum "$BIN/parc-plugin-$p" | cut -d' ' -f1)\""
    echo "      config:"
    "$BIN/parc-plugin-$p" -sample | sed -e '/^\s*#/d' -e '/^\s*$/d' -e 's/^/        /'
  done
} > "$RUN/agent.yaml"

agent_args=(--config "$RUN/agent.yaml" --server "$SERVER_URL" --state-dir "$RUN/agent" --interval 15s)
if [ ! -s "$RUN/agent/state.json" ] || [ ! -s "$RUN/agent/ca.crt" ]; then
  # Never enrolled, or enrolled by a run from before TLS: enroll (again).
  rm -rf "$RUN/agent"
  token=$(PARC_CA_FILE="$CA" "$BIN/parcctl" enroll-token create --role loaner --max-uses 1 --ttl 1h --quiet)
  agent_args+=(--enroll-token "$token")
fi
env -u PARC_CA_FILE "$BIN/parc-agent" "${agent_args[@]}" 2> >(trap '' INT TERM; sed -u 's/^/[agent]  /' >&2) &
agent_pid=$!

# This machine's unit: the agent id it got when it enrolled (the agent
# writes its state once enrolled; wait a little for a first enrollment).
agent_id=""
for _ in $(seq 1 100); do
  agent_id=$(sed -n 's/.*"agent_id": *"\([^"]*\)".*/\1/p' "$RUN/agent/state.json" 2>/dev/null | head -n1 || true)
  [ -n "$agent_id" ] && break
  sleep 0.2
done

cat <<MSG

parc is running.
  server:  $SERVER_URL   (data in $RUN/server, etcd log in $RUN/server/etcd.log)
           HTTPS under its own CA, $RUN/server/ca.crt
  agent:   this machine, checking in every 15s (state in $RUN/agent; it pinned that CA)

Web UI (French or English, as your browser asks; a switch at the top):
  $SERVER_URL/ui/
  sign in with the admin token, the one line of $PWD/$RUN/server/admin.token
  (your browser will warn about the certificate: it is signed by parc's own CA, $CA)
  this machine: $SERVER_URL/ui/units/${agent_id:-<its agent id, see parcctl units list>}

Look at it from another terminal:
  $BIN/parc-agent --print --config $RUN/agent.yaml     # this machine's report, plugins included
  export PARC_SERVER=$SERVER_URL PARC_TOKEN_FILE=$PWD/$RUN/server/admin.token PARC_CA_FILE=$PWD/$CA
  $BIN/parcctl units list
  $BIN/parcctl units show <ID>

Ctrl-C stops both.
MSG
wait "$server_pid"
