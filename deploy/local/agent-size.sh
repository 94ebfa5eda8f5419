#!/usr/bin/env bash
# `make agent-size`: how small is parc-agent? Starts a parc-server in a temp
# dir, runs parc-agent as a daemon against it every INTERVAL (bandwidth
# test off: it is measured apart, every few hours), and after a warm-up
# reads, with public tools:
#   - the agent's resident set (ps -o rss), sampled over the run;
#   - its CPU (utime+stime in /proc/PID/stat) divided by the cycles it ran,
#     and the CPU of the plugin processes it started (cutime+cstime).
# Targets: a steady RSS under 15 MiB, under 100 ms of CPU per cycle.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
INTERVAL=${INTERVAL:-2s}
CYCLES=${CYCLES:-60}
WITH_PLUGINS=${WITH_PLUGINS:-0}
# How often the plugins run (the agent's default is 1h; 0s: every cycle).
PLUGINS_INTERVAL=${PLUGINS_INTERVAL:-1h}

work=$(mktemp -d)
server_pid="" agent_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || shuf -i 20000-60000 -n 1; }
port=$(free_port)
"$BIN/parc-server" --data-dir "$work/server" --listen "127.0.0.1:$port" \
  --etcd-client-url "http://127.0.0.1:$(free_port)" --etcd-peer-url "http://127.0.0.1:$(free_port)" 2>"$work/server.log" &
server_pid=$!
export PARC_SERVER="https://127.0.0.1:$port" PARC_TOKEN_FILE="$work/server/admin.token"
PARC_CA_FILE="$work/server/ca.crt" "$BIN/parcctl" status --wait 60s >/dev/null
token=$(PARC_CA_FILE="$work/server/ca.crt" "$BIN/parcctl" enroll-token create --quiet)

config=()
if [ "$WITH_PLUGINS" = 1 ]; then
  { echo "plugins:"; echo "  dir: $BIN"; echo "  interval: $PLUGINS_INTERVAL"; echo "  list:"
    for p in avkiosk peripherals remotesupport software updates; do
      echo "    - name: $p"; echo "      sha256: \"$(sha256sum "$BIN/parc-plugin-$p" | cut -d' ' -f1)\""
    done; } > "$work/agent.yaml"
  config=(--config "$work/agent.yaml")
fi
env -u PARC_CA_FILE "$BIN/parc-agent" "${config[@]}" --server "$PARC_SERVER" --enroll-token "$token" \
  --state-dir "$work/agent" --interval "$INTERVAL" --jitter 0 --bandwidth-interval 0 --log-level debug 2>"$work/agent.log" &
agent_pid=$!

cycles() { grep -c -E 'heartbeat acknowledged|reports delivered' "$work/agent.log" || true; }
ticks() { awk '{print $14+$15, $16+$17}' "/proc/$agent_pid/stat"; }

# Warm up: enrollment, first report, the runtime's heap settling.
while [ "$(cycles)" -lt 5 ]; do sleep 0.5; kill -0 "$agent_pid" || { cat "$work/agent.log"; exit 1; }; done
read -r t0 c0 < <(ticks); n0=$(cycles)
max_rss=0 sum_rss=0 samples=0
while [ $(( $(cycles) - n0 )) -lt "$CYCLES" ]; do
  rss=$(ps -o rss= -p "$agent_pid" | tr -d ' ')
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
  sum_rss=$((sum_rss + rss)); samples=$((samples + 1))
  sleep 1
done
read -r t1 c1 < <(ticks); n1=$(cycles)
hz=$(getconf CLK_TCK)
n=$((n1 - n0))
awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v n="$n" -v hz="$hz" -v max="$max_rss" -v avg=$((sum_rss / samples)) -v plugins="$WITH_PLUGINS" -v every="$PLUGINS_INTERVAL" 'BEGIN {
  printf "parc-agent over %d cycles (bandwidth test off, plugins %s):\n", n, (plugins == 1 ? "run every " every : "off")
  printf "  resident set: steady %.1f MiB, max %.1f MiB (target < 15 MiB)\n", avg/1024, max/1024
  printf "  CPU per cycle: %.1f ms in the agent (target < 100 ms)", t*1000/hz/n
  if (plugins == 1) printf ", %.1f ms in its plugin processes", c*1000/hz/n
  printf "\n"
}'
