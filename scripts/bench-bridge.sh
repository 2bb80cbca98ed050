#!/usr/bin/env bash
# bench-bridge.sh — the bridge under load: N simulated agents (8 interfaces
# each, answering every request) through a real Mosquitto, and the bridge's
# CPU, memory and missed samples.
#
# Usage: scripts/bench-bridge.sh [N...]        (default: 100 1000 2000 5000)
# Environment:
#   WARMUP=10 DURATION=60   seconds before and of each measurement window
#   PER_CONN=250            simulated agents per loadgen MQTT connection
#   IFACES=8                interfaces per agent
#   MAX_QUEUED=1000         mosquitto max_queued_messages (its default). With it,
#                           a bridge started after more than ~1,300 agents loses
#                           most of their retained statuses at subscribe
#                           ("Outgoing messages are being dropped for client
#                           bridge-…" in mosquitto.log) and never samples them:
#                           measured 1541 of 2000 and 1321 of 5000 agents known.
#                           MAX_QUEUED=100000 measures the bridge itself.
#   OUT=<dir>               keep logs and raw snapshots here (default: a temp dir)
#   PPROF=127.0.0.1:6060    build the bridge with -tags pprof and serve
#                           net/http/pprof there; the script saves a heap and a
#                           20 s CPU profile from the middle of the window
#                           (heap.pprof, cpu.pprof beside the logs)
#
# Per N it starts, each as its own process and killed by its own PID: a
# private mosquitto on a free 127.0.0.1 port, internal/tools/loadgen, and
# cmd/ifstat-bridge with IFSTAT_NETDATA=on whose stdout goes through a FIFO to
# internal/tools/loadgen/count (it counts, per round of every ifstat.net chart, a
# numeric 'received' = a rate, or '' = a gap). After WARMUP s it snapshots
# utime+stime (/proc/<pid>/stat) of every process and the counters of loadgen
# and count (SIGUSR1), and again DURATION s later; the table shows the
# differences. Every process shares the same 2 cores, so each one's CPU is
# reported on its own, as % of one core.
#
# mosquitto: max_connections -1 (unlimited); each connection is a file
# descriptor, so the script raises ulimit -n (soft) to the hard limit before
# starting it. PER_CONN=250 (20 connections at N=5000) is the default;
# PER_CONN=1 (one connection per agent) was measured to work at N=1000.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh

WARMUP=${WARMUP:-10}
DURATION=${DURATION:-60}
PER_CONN=${PER_CONN:-250}
IFACES=${IFACES:-8}
MAX_QUEUED=${MAX_QUEUED:-1000}
ns=("$@")
((${#ns[@]})) || ns=(100 1000 2000 5000)

OUT=${OUT:-$(mktemp -d /tmp/bench-bridge.XXXXXX)}
mkdir -p "$OUT"
bin=$OUT/bin
mkdir -p "$bin"
PPROF=${PPROF:-}
if [[ -n $PPROF ]]; then
	go build -tags pprof -o "$bin/ifstat-bridge" ./cmd/ifstat-bridge
else
	go build -o "$bin/ifstat-bridge" ./cmd/ifstat-bridge
fi
go build -o "$bin/loadgen" ./internal/tools/loadgen
go build -o "$bin/count" ./internal/tools/loadgen/count
command -v mosquitto >/dev/null || { echo "bench-bridge: mosquitto not installed" >&2; exit 1; }

ulimit -n "$(ulimit -Hn)"
tck=$(getconf CLK_TCK)

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

# cpu_ticks PID: utime+stime in clock ticks (fields 14 and 15 of stat;
# counted after the ")" that closes the command name).
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# field FILE LINE NAME: a number from line LINE of a JSON-lines file.
field() { sed -n "${2}p" "$1" | jq -r ".$3"; }
now() { date +%s.%N; }

printf '| N | conns | bridge CPU %% | bridge RSS / RssAnon / HWM MiB | mosquitto CPU %% | loadgen CPU %% | count CPU %% | requests recv | replies | net rounds (expected) | rates | gaps | dropped (lg/mosq/bridge) | late reqs >500ms | load avg |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'

for n in "${ns[@]}"; do
	dir=$OUT/n$n
	mkdir -p "$dir"
	start_mosquitto "$dir" "$MAX_QUEUED"

	export IFSTAT_BROKER=tcp://127.0.0.1:$port
	IFSTAT_LOADGEN_AGENTS=$n IFSTAT_LOADGEN_PER_CONN=$PER_CONN IFSTAT_LOADGEN_IFACES=$IFACES \
		IFSTAT_LOADGEN_STATS=$dir/loadgen.jsonl "$bin/loadgen" 2>"$dir/loadgen.log" &
	lpid=$!
	pids+=("$lpid")

	mkfifo "$dir/stdout.fifo"
	"$bin/count" -stats "$dir/count.jsonl" <"$dir/stdout.fifo" 2>"$dir/count.log" &
	cpid=$!
	pids+=("$cpid")
	IFSTAT_PPROF=$PPROF IFSTAT_NETDATA=on IFSTAT_INTERVAL=1s "$bin/ifstat-bridge" >"$dir/stdout.fifo" 2>"$dir/bridge.log" &
	bpid=$!
	pids+=("$bpid")

	sleep "$WARMUP"
	procs=("$bpid" "$mpid" "$lpid" "$cpid")
	t0=$(now)
	c0=()
	for p in "${procs[@]}"; do c0+=("$(cpu_ticks "$p")"); done
	kill -USR1 "$lpid" "$cpid"
	if [[ -n $PPROF ]] && ((DURATION > 30)); then
		sleep $(((DURATION - 20) / 2))
		curl -s -o "$dir/cpu.pprof" "http://$PPROF/debug/pprof/profile?seconds=20"
		curl -s -o "$dir/heap.pprof" "http://$PPROF/debug/pprof/heap"
		sleep $((DURATION - 20 - (DURATION - 20) / 2))
	else
		sleep "$DURATION"
	fi
	t1=$(now)
	c1=()
	for p in "${procs[@]}"; do c1+=("$(cpu_ticks "$p")"); done
	kill -USR1 "$lpid" "$cpid"
	rss=$(status_kb "$bpid" VmRSS)
	anon=$(status_kb "$bpid" RssAnon)
	hwm=$(status_kb "$bpid" VmHWM)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	sleep 0.5 # let the snapshots land

	kill "$bpid"
	wait "$bpid" || true
	wait "$cpid" || true
	kill "$lpid"
	wait "$lpid" || true
	kill "$mpid"
	wait "$mpid" || true
	pids=()

	dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
	cpu=()
	for i in "${!procs[@]}"; do
		cpu+=("$(awk -v a="${c0[$i]}" -v b="${c1[$i]}" -v t="$tck" -v d="$dt" 'BEGIN {printf "%.1f", (b - a) / t / d * 100}')")
	done
	d() { echo $(($(field "$1" 2 "$2") - $(field "$1" 1 "$2"))); }
	reqs=$(d "$dir/loadgen.jsonl" requests)
	replies=$(d "$dir/loadgen.jsonl" replies)
	lgdrop=$(d "$dir/loadgen.jsonl" dropped)
	late=$(($(sed -n 2p "$dir/loadgen.jsonl" | jq '[.offset_50ms[10:][]] | add') - $(sed -n 1p "$dir/loadgen.jsonl" | jq '[.offset_50ms[10:][]] | add')))
	rounds=$(d "$dir/count.jsonl" net_rounds)
	values=$(d "$dir/count.jsonl" net_values)
	empty=$(d "$dir/count.jsonl" net_empty)
	expected=$(awk -v n="$n" -v f="$IFACES" -v d="$dt" 'BEGIN {printf "%.0f", n * f * d}')
	mqdrop=$(grep -c 'dropped' "$dir/mosquitto.log" || true)
	brdrop=$(grep -c 'inbox full' "$dir/bridge.log" || true)
	conns=$(field "$dir/loadgen.jsonl" 1 conns)
	printf '| %d | %d | %s | %.1f / %.1f / %.1f | %s | %s | %s | %d | %d | %d (%s) | %d | %d | %d/%s/%s | %d | %s |\n' \
		"$n" "$conns" "${cpu[0]}" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$(awk -v k="$anon" 'BEGIN {print k / 1024}')" "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" \
		"${cpu[1]}" "${cpu[2]}" "${cpu[3]}" "$reqs" "$replies" "$rounds" "$expected" "$values" "$empty" \
		"$lgdrop" "$mqdrop" "$brdrop" "$late" "$load"
done
echo
echo "window: ${DURATION}s after ${WARMUP}s warm-up; CPU as % of one core (2-core machine, all processes together); logs in $OUT"
echo "the rig: mosquitto, loadgen and count share the bridge's cores; their CPU is the rig's share"
echo "dropped: lg = requests loadgen dropped (worker behind), mosq = mosquitto log lines about dropped messages, bridge = 'inbox full' warnings"
