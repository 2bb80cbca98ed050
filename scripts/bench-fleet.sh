#!/usr/bin/env bash
# bench-fleet.sh — IFSTAT_SHARD=auto at fleet scale: BRIDGES real bridges
# share N simulated agents (internal/tools/loadgen, 8 interfaces each)
# through a real Mosquitto on a free 127.0.0.1 port. internal/tools/bench/fleet
# runs the bridges and prints what it measured: the time to settle, each
# process's CPU (bridges, mosquitto, loadgen: they share this machine), the
# bridges' RssAnon and rated/missed samples, then one bridge frozen
# (SIGSTOP, a dead host) and the time until its agents are rated by the
# others, its return, and whether every byte total across it all equals the
# counters' growth.
#
# Usage: scripts/bench-fleet.sh [N]     (default 3000)
# Environment:
#   BRIDGES=3 WINDOW=30s HA=on    bridges, steady window, their IFSTAT_HA
#   SHARD=auto                    or static: bridge k of n (no takeover)
#   BRIDGE_BIN=<path>             another ifstat-bridge build to measure,
#                                 e.g. one from before a change
#   KEEP=1                        keep the logs (printed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

n=${1:-3000}
start_work bench-fleet "${KEEP:-}"
bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/ifstat-bridge" ./cmd/ifstat-bridge
go build -o "$bin/loadgen" ./internal/tools/loadgen
go build -o "$bin/fleet" ./internal/tools/bench/fleet
bridge=${BRIDGE_BIN:-$bin/ifstat-bridge}
command -v mosquitto >/dev/null || { echo "bench-fleet: mosquitto not installed" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

start_mosquitto "$work" 100000

IFSTAT_BROKER=tcp://127.0.0.1:$port IFSTAT_LOADGEN_AGENTS=$n IFSTAT_LOADGEN_STATS=$work/loadgen.jsonl \
	"$bin/loadgen" 2>"$work/loadgen.log" &
lpid=$!
pids+=("$lpid")

echo "bench-fleet: $n agents, ${BRIDGES:-3} bridges ($bridge), shard ${SHARD:-auto}, HA ${HA:-on}"
"$bin/fleet" -broker "tcp://127.0.0.1:$port" -bridge "$bridge" -out "$work" -nodes "$n" \
	-bridges "${BRIDGES:-3}" -window "${WINDOW:-30s}" -shard "${SHARD:-auto}" -ha "${HA:-on}" \
	-pids "mosquitto=$mpid,loadgen=$lpid"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "${KEEP:-}" ] || echo "logs in $work"
