#!/usr/bin/env bash
# soak.sh — the scale and fault figures that are measurements, not tests:
#
#   flood  one requester floods one real agent at 10,000 req/s for 10 s
#          (publisher's BenchmarkFlood: agent CPU, RSS before/at end/peak,
#          how many 1 Hz requests of a second client were still answered)
#   soak   5,000 simulated agents (internal/tools/loadgen) at 1 Hz against one
#          bridge for DURATION s through scripts/bench-bridge.sh, plus the
#          bridge's VmRSS and CPU sampled every SAMPLE s to show whether
#          memory stays flat.
#
# Usage: scripts/soak.sh [flood] [soak]      (default: both, flood first)
# Environment:
#   N=5000 DURATION=600 SAMPLE=30   soak size, window and sampling period
#   MAX_QUEUED=100000               passed to bench-bridge.sh (see there: with
#                                   mosquitto's default 1000 the broker, not
#                                   the bridge, loses retained statuses)
#   OUT=<dir>                       logs (default: a temp dir)
#
# Not part of CI: the soak alone takes DURATION + ~15 s. Every process is
# started by the scripts it calls and killed by its own PID there; this
# script only reads /proc of the bridge it finds as a child of the run.
set -euo pipefail

cd "$(dirname "$0")/.."

N=${N:-5000}
DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-30}
export MAX_QUEUED=${MAX_QUEUED:-100000}
OUT=${OUT:-$(mktemp -d /tmp/soak.XXXXXX)}
mkdir -p "$OUT"
what=("$@")
((${#what[@]})) || what=(flood soak)

tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

flood() {
	echo "## flood: go test -run '^\$' -bench Flood -benchtime 1x ./publisher"
	go test -run '^$' -bench Flood -benchtime 1x ./publisher | tee "$OUT/flood.txt"
}

soak() {
	echo "## soak: N=$N DURATION=${DURATION}s MAX_QUEUED=$MAX_QUEUED, samples every ${SAMPLE}s in $OUT/rss.tsv"
	OUT=$OUT/bench DURATION=$DURATION scripts/bench-bridge.sh "$N" >"$OUT/bench.md" 2>"$OUT/bench.err" &
	local bpid=$! pid="" i
	# The bridge is a grandchild (bench-bridge.sh starts it); wait for it.
	for ((i = 0; i < 600; i++)); do
		sleep 0.5
		pid=$(pgrep -P "$bpid" -x ifstat-bridge || true)
		[[ -z $pid ]] || break
	done
	if [[ -z $pid ]]; then
		echo "soak: bridge did not start" >&2
		wait "$bpid" || true
		cat "$OUT/bench.err" >&2
		return 1
	fi
	printf 't_s\trss_kib\thwm_kib\tcpu_pct_since_last\n' | tee "$OUT/rss.tsv"
	local t0 c0 c1 t1 tp cp
	t0=$(date +%s.%N)
	tp=$t0
	cp=$(cpu_ticks "$pid")
	while kill -0 "$pid" 2>/dev/null; do
		sleep "$SAMPLE"
		kill -0 "$pid" 2>/dev/null || break
		t1=$(date +%s.%N)
		c1=$(cpu_ticks "$pid" 2>/dev/null) || break
		printf '%.0f\t%s\t%s\t%s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
			"$(status_kb "$pid" VmRSS)" "$(status_kb "$pid" VmHWM)" \
			"$(awk -v a="$cp" -v b="$c1" -v t="$tck" -v x="$tp" -v y="$t1" 'BEGIN {printf "%.1f", (b - a) / t / (y - x) * 100}')" |
			tee -a "$OUT/rss.tsv"
		tp=$t1
		cp=$c1
	done
	wait "$bpid"
	cat "$OUT/bench.md"
}

for w in "${what[@]}"; do
	case $w in
	flood) flood ;;
	soak) soak ;;
	*)
		echo "soak.sh: unknown part $w (flood, soak)" >&2
		exit 2
		;;
	esac
done
