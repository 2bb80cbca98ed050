#!/usr/bin/env bash
# bench-watch.sh — what the agent's watch costs: CPU and reads per second
# with IFSTAT_WATCH=off, auto (the default) and a fixed 20ms, at one
# request per second, beside the same agent on counters that never move
# (an idle router: the cost of answering alone).
#
# Usage: scripts/bench-watch.sh
# Environment:
#   SECONDS_EACH  measured seconds per run (default 30)
#   RUNS          which runs, of off-idle auto-idle off-busy auto-busy
#                 auto-oneclock 20ms-busy (default: all but auto-oneclock).
#                 Single runs vary by 2x and
#                 more: to compare two builds, run RUNS=auto-busy in a
#                 worktree of each, alternating, three or more rounds.
#   AGENT_ENV     more VAR=value settings for every agent run, space
#                 separated, e.g. AGENT_ENV=GOMAXPROCS=1 (a single-core
#                 router)
#   AGENT_GOARCH, AGENT_EXEC  as in bench-agent.sh, e.g.
#       AGENT_GOARCH=mipsle AGENT_EXEC="qemu-mipsel -r 4.14.54-UBNT"
#     to compare the relative cost under emulation (absolute numbers under
#     qemu say nothing about a router)
#
# The busy tree is internal/tools/accuracy's emulated driver (netdevtest.Driver):
# 8 interfaces refreshing every 0.9765 s at phases spread over the period,
# 100/50 Mbit/s each, so the adaptive watch probes 8 refreshes per period:
# the worst case. auto-oneclock is the same driver refreshing all its ports
# at once (one probe burst per period). The idle tree is the same
# interfaces as a regular file.
# Processes started here are killed by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-off-idle auto-idle off-busy auto-busy 20ms-busy}
for r in $runs; do
	case $r in
	off-idle | auto-idle | off-busy | auto-busy | auto-oneclock | 20ms-busy) ;;
	*)
		echo "RUNS: unknown run $r (off-idle auto-idle off-busy auto-busy auto-oneclock 20ms-busy)" >&2
		exit 2
		;;
	esac
done

. scripts/lib.sh
start_work bench-watch

go build -o "$work/accuracy" ./internal/tools/accuracy

# serve DIR [FLAG...]: the emulated driver's tree in DIR, served until exit.
serve() {
	local dir=$1
	shift
	"$work/accuracy" -serve "$dir" "$@" 2>>"$work/serve.log" &
	pids+=("$!")
	for _ in $(seq 200); do
		[[ -p $dir/proc/net/dev ]] && return 0
		sleep 0.05
	done
	echo "driver tree $dir did not come up" >&2
	cat "$work/serve.log" >&2
	exit 1
}
tree=$work/tree
serve "$tree"
idle=$work/idle
"$work/accuracy" -serve "$idle" -static
one=$work/oneclock
if [[ " $runs " == *" auto-oneclock "* ]]; then
	serve "$one" -one-clock
fi

busy="IFSTAT_PROC_ROOT=$tree/proc+IFSTAT_SYS_ROOT=$tree/sys"
quiet="IFSTAT_PROC_ROOT=$idle/proc+IFSTAT_SYS_ROOT=$idle/sys"
oneclock="IFSTAT_PROC_ROOT=$one/proc+IFSTAT_SYS_ROOT=$one/sys"
extra=""
for e in ${AGENT_ENV:-}; do
	extra+="+$e"
done
targets=()
for r in $runs; do
	case $r in
	off-idle) targets+=("agent+IFSTAT_WATCH=off$extra+$quiet") ;;
	auto-idle) targets+=("agent+IFSTAT_WATCH=auto$extra+$quiet") ;;
	off-busy) targets+=("agent+IFSTAT_WATCH=off$extra+$busy") ;;
	auto-busy) targets+=("agent+IFSTAT_WATCH=auto$extra+$busy") ;;
	auto-oneclock) targets+=("agent+IFSTAT_WATCH=auto$extra+$oneclock") ;;
	20ms-busy) targets+=("agent+IFSTAT_WATCH=20ms$extra+$busy") ;;
	esac
done
TARGETS="${targets[*]}" \
	RATES=1 SECONDS_EACH=${SECONDS_EACH:-30} scripts/bench-agent.sh 2>&1 | sed "s|$work|…|g"
