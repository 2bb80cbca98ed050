#!/usr/bin/env bash
# accuracy.sh — the accuracy report: the real agent and bridge against
# an emulated NIC driver whose counters refresh on their own clock
# (internal/netdev/netdevtest.Driver). Not part of CI.
#
# Usage:
#   scripts/accuracy.sh            scenarios a, b, c concurrently (≈ 6 min)
#   scripts/accuracy.sh peers      the peers in one run on one emulated driver
#                                  (per period of PEERS_PERIODS, default
#                                  "976.5ms 500ms"): the agent and bridge
#                                  into a real Netdata, Netdata's own
#                                  proc.plugin, node_exporter scraped every
#                                  second, and a naive reader; one table per
#                                  driver (BenchmarkPeers in netdata-bridge,
#                                  about 3 minutes each; PEERS_SECONDS, the
#                                  judged length, default 120;
#                                  PEERS_JITTER, how late the driver's timer
#                                  may be, default 0s)
#   scripts/accuracy.sh bench      the watch's CPU cost on the agent: runs
#                                  scripts/bench-watch.sh (IFSTAT_WATCH off,
#                                  auto, 20ms on this driver tree and on
#                                  counters that never move)
#   scripts/accuracy.sh matrix     the scenario matrix of docs/accuracy.md (the list of
#                                  netdata-bridge/rate/matrix_test.go) through
#                                  the real processes: one mosquitto, per mode
#                                  one agent per scenario on its own driver
#                                  tree (periods 0.5–3 s, jitter, missed
#                                  refreshes, a period change, idle/burst,
#                                  rate steps) and one bridge per sampling
#                                  interval (1 s, 0.2 s); a markdown table per
#                                  mode (samples, held stale points, gaps,
#                                  mean/max error,
#                                  ≥ 10 % off, ≥ 1.9×) after a 60 s warm-up,
#                                  and a naive Δcounter/Δread reader on the
#                                  replies of mode off
# Environment:
#   SCENARIOS   default "a,b,c"
#   DURATION    per scenario, default 330s (≥ 300 one-second samples per
#               interface)
#   SECONDS_EACH  passed to bench-watch.sh (default 30)
#   MODES       matrix only: default (as installed: no IFSTAT_WATCH, no
#               IFSTAT_EXACT), watch10 (IFSTAT_WATCH=10ms), off
#               (IFSTAT_WATCH=0), exact (off + bridge IFSTAT_EXACT=on), auto
#               (IFSTAT_WATCH=auto; an agent that refuses it is reported, the
#               mode skipped). Commas run modes at once, ';' in batches one
#               after the other; default default,off;exact,auto;watch10
#   DURATION    matrix: per batch, default 300s (three batches by default:
#               about 16 minutes in all, plus the build)
#   MATRIX_TRACE  matrix only: 1 lists, below each table, the worst sample
#               of every scenario 0.5 % or more off (MATRIX_TRACE_MIN: that
#               many percent) with the replies and served copies around it,
#               how many samples were that far off, and how wide the agent's
#               claims at their ends were
#   ONLY        matrix only: run just the scenarios whose name contains one
#               of these '|'-separated substrings (seeds as in the whole
#               matrix), e.g. ONLY='-> |P 2 s, S 1 s, 1 % missed' for the
#               period changes and the 2 s driver that misses refreshes
#
# Scenarios (8 interfaces, each 100 Mbit/s received and 50 Mbit/s sent,
# refresh phases spread over the period):
#   a  period 0.9765 s, IFSTAT_INTERVAL=1s, IFSTAT_WATCH=50ms
#   b  period 0.9765 s, IFSTAT_INTERVAL=1s, watch off
#   c  period 1 s, IFSTAT_INTERVAL=200ms, watch off
#   a10 (only when named in SCENARIOS) as a, with IFSTAT_WATCH=10ms
#   bx, b5, b5x (only when named) the agent as installed: bx is b with the
#               bridge's IFSTAT_EXACT=on; b5, b5x a 0.5 s driver, off / on
# Each runs its own mosquitto on a free 127.0.0.1 port; every process is
# killed by PID. See internal/tools/accuracy/doc.go for how samples are aligned.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ ${1:-} == peers ]]; then
	# Netdata, mosquitto and node_exporter as the tests start them, on
	# loopback; the benchmark is the whole run.
	for p in ${PEERS_PERIODS:-976.5ms 500ms}; do
		IFSTAT_PEERS_PERIOD=$p IFSTAT_PEERS_SECONDS=${PEERS_SECONDS:-120} IFSTAT_PEERS_JITTER=${PEERS_JITTER:-0s} \
			go test -run '^$' -bench Peers -benchtime 1x -timeout 30m -v ./netdata-bridge
	done
	exit 0
fi

if [[ ${1:-} == bench ]]; then
	# The watch's cost, with the same driver tree: its own script.
	exec scripts/bench-watch.sh
fi

. scripts/lib.sh
start_work accuracy keep

bin=$work/bin
mkdir -p "$bin"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
echo "building (version $version) in $work" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$bin/ifstat-agent" ./cmd/ifstat-agent
go build -o "$bin/ifstat-bridge" ./cmd/ifstat-bridge
go build -o "$bin/accuracy" ./internal/tools/accuracy
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)


echo "logs in $work (kept)" >&2
if [[ ${1:-} == matrix ]]; then
	# How late this machine wakes a sleeping thread, before the run: the
	# matrix judges windows a millisecond wide, and a probe that wakes
	# late widens its window (see internal/tools/bench/wake-late).
	go build -o "$bin/wake-late" ./internal/tools/bench/wake-late
	{
		echo "this machine before the run (wake-late -duration 10s):"
		"$bin/wake-late" -duration 10s | sed 's/^/  /'
		echo
	} | tee "$work/matrix.md"
	"$bin/accuracy" -agent "$bin/ifstat-agent" -bridge "$bin/ifstat-bridge" -mosquitto "$mosquitto_bin" \
		-matrix "${MODES:-default,off;exact,auto;watch10}" -duration "${DURATION:-300s}" -only "${ONLY:-}" -work "$work" |
		tee -a "$work/matrix.md"
	echo "tables in $work/matrix.md" >&2
	exit 0
fi
"$bin/accuracy" -agent "$bin/ifstat-agent" -bridge "$bin/ifstat-bridge" -mosquitto "$mosquitto_bin" \
	-scenarios "${SCENARIOS:-a,b,c}" -duration "${DURATION:-330s}" -work "$work"
