#!/usr/bin/env bash
# bench-agent.sh — what one request costs the real agent, beside references
# measured in the same run on the same machine.
#
# Usage: scripts/bench-agent.sh
# Environment:
#   RATES     requests per second to run (default "10 100")
#   SECONDS_EACH  measured seconds per run (default 20)
#   AGENT_GOARCH  build the agent for this GOARCH (e.g. mipsle, built with
#             GOMIPS=softfloat as for an ER-X) and run it through AGENT_EXEC
#             (e.g. "qemu-mipsel -r 4.14.54-UBNT"); default: this machine
#   TARGETS   which runs (default "agent agent-gogc100 floor-transport floor-read node-exporter");
#             agent+VAR=VALUE[+VAR=VALUE…] and floor-transport+… run with those
#             variables added, e.g. agent+GOMAXPROCS=1, or floor-transport flags
#             (floor-transport+-unordered+-handoff) (experiments)
#
# For each rate it runs, one after another, against a private mosquitto on
# a free 127.0.0.1 port:
#   agent            cmd/ifstat-agent as shipped (its own GOGC=50 and 8 MiB
#                    GOMEMLIMIT defaults; GOGC/GOMEMLIMIT removed from the env)
#   agent-gogc100    the same binary with Go's defaults (GOGC=100, no limit)
#   floor-transport  a minimal paho client answering every request with a
#                    constant payload of the agent's reply size (the floor of
#                    the transport)
#   floor-read       a bare open/read/close of /proc/net/dev at the same rate,
#                    no MQTT (the floor of the work)
#   node-exporter    Debian's prometheus-node-exporter, netdev collector only,
#                    scraped over HTTP at the same rate
# CPU per request = Δ(utime+stime) of /proc/<pid>/stat over the measured
# window, ticks → µs with getconf CLK_TCK, divided by the answers; the
# schedstat column is the same from /proc/<pid>/task/*/schedstat in ns,
# finer than the 10 ms tick. RSS is VmRSS / VmHWM of /proc/<pid>/status at
# the end, and RssAnon (the last column) the anonymous part of VmRSS: what
# a router cannot drop (the binary's clean pages can be read again). mosquitto's CPU per request is shown on its own rows.
#
# The processes started here are killed by PID on exit. Requires go,
# mosquitto; node_exporter runs only if installed.
set -euo pipefail

cd "$(dirname "$0")/.."

rates=${RATES:-10 100}
secs=${SECONDS_EACH:-20}
targets=${TARGETS:-agent agent-gogc100 floor-transport floor-read node-exporter}
clk_tck=$(getconf CLK_TCK)

. scripts/lib.sh
start_work bench-agent

bin=$work/bin
mkdir -p "$bin"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
echo "building (version $version) in $work" >&2
# The agent exactly as scripts/build-agents.sh builds it.
CGO_ENABLED=0 GOARCH=${AGENT_GOARCH:-$(go env GOARCH)} GOMIPS=softfloat \
	go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$bin/ifstat-agent" ./cmd/ifstat-agent
read -r -a agent_exec <<<"${AGENT_EXEC:-}"
for p in requester floor-transport floor-read; do
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/$p" "./internal/tools/bench/$p"
done

# wait_tcp PORT PID: until 127.0.0.1:PORT accepts or PID died (10 s guard).
wait_tcp() {
	for _ in $(seq 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
port=$("$bin/requester" -free-port)
cat >"$work/mosquitto.conf" <<EOF
user $(id -un)
persistence false
log_dest file $work/mosquitto.log
allow_anonymous true
listener $port 127.0.0.1
EOF
"$mosquitto_bin" -c "$work/mosquitto.conf" 2>>"$work/mosquitto.log" &
mosq=$!
pids+=("$mosq")
wait_tcp "$port" "$mosq" || {
	echo "mosquitto did not start:" >&2
	cat "$work/mosquitto.log" >&2
	exit 1
}
broker=tcp://127.0.0.1:$port
echo "mosquitto $mosq on $broker; CLK_TCK=$clk_tck; $secs s per run; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

rows=$work/rows.tsv
: >"$rows"

# stop PID: SIGTERM and wait, so the next run starts on a quiet machine.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# measure LABEL PID RATE MODE [requester flags…]
measure() {
	local label=$1 pid=$2 rate=$3 mode=$4
	shift 4
	"$bin/requester" -mode "$mode" -broker "$broker" -node bench -rate "$rate" \
		-duration "${secs}s" -clk-tck "$clk_tck" -label "$label" \
		-pid "$label:$pid" -pid "mosquitto:$mosq" "$@" >>"$rows"
}

reply=$work/reply.json
for rate in $rates; do
	for t in $targets; do
		echo "rate $rate/s: $t" >&2
		case $t in
		agent | agent-gogc100 | agent+*)
			envs=(-u GOGC -u GOMEMLIMIT)
			if [[ $t == agent-gogc100 ]]; then
				envs=(GOGC=100 GOMEMLIMIT=off)
			fi
			if [[ $t == agent+* ]]; then
				IFS=+ read -r -a extra <<<"${t#agent+}"
				envs+=("${extra[@]}")
			fi
			: >"$work/agent.log"
			env "${envs[@]}" IFSTAT_BROKER="$broker" IFSTAT_NODE=bench IFSTAT_LOG_LEVEL=info \
				"${agent_exec[@]}" "$bin/ifstat-agent" 2>>"$work/agent.log" &
			p=$!
			pids+=("$p")
			measure "$t" "$p" "$rate" mqtt -save-reply "$reply"
			stop "$p"
			# The agent's own count of the reads it made between
			# requests (start-up included).
			grep -o 'watch_reads=[0-9]*' "$work/agent.log" | tail -1 | sed "s|^|$t: |" >&2 || true
			# What its CPU budget (IFSTAT_WATCH_CPU) did, if anything.
			grep -h 'CPU budget' "$work/agent.log" | sed "s|^|$t: |" >&2 || true
			grep -o 'watch_probe_every=[0-9]* .*watch_thinned_s=[0-9]*' "$work/agent.log" | tail -1 | sed "s|^|$t: |" >&2 || true
			;;
		floor-transport | floor-transport+*)
			payload=()
			if [[ -s $reply ]]; then
				payload=(-payload "$reply")
			fi
			extra=() flags=()
			if [[ $t == floor-transport+* ]]; then
				IFS=+ read -r -a extra <<<"${t#floor-transport+}"
			fi
			# Extras starting with "-" are floor-transport flags
			# (-unordered, -handoff), the others environment.
			for i in "${!extra[@]}"; do
				if [[ ${extra[i]} == -* ]]; then
					flags+=("${extra[i]}")
					unset 'extra[i]'
				fi
			done
			env "${extra[@]}" "$bin/floor-transport" -broker "$broker" -node bench "${payload[@]}" "${flags[@]}" 2>>"$work/floor.log" &
			p=$!
			pids+=("$p")
			measure "$t" "$p" "$rate" mqtt
			stop "$p"
			;;
		floor-read)
			"$bin/floor-read" -rate "$rate" 2>>"$work/floor.log" &
			p=$!
			pids+=("$p")
			measure "$t" "$p" "$rate" none
			stop "$p"
			;;
		node-exporter)
			ne=$(command -v prometheus-node-exporter || command -v node_exporter || true)
			if [[ -z $ne ]]; then
				echo "  prometheus-node-exporter not installed: skipped" >&2
				continue
			fi
			neport=$("$bin/requester" -free-port)
			"$ne" --web.listen-address="127.0.0.1:$neport" --collector.disable-defaults --collector.netdev \
				2>>"$work/node-exporter.log" &
			p=$!
			pids+=("$p")
			if wait_tcp "$neport" "$p"; then
				measure "$t" "$p" "$rate" http -url "http://127.0.0.1:$neport/metrics"
			else
				echo "  node_exporter did not start:" >&2
				tail -5 "$work/node-exporter.log" >&2
			fi
			stop "$p"
			;;
		*)
			echo "unknown target $t" >&2
			exit 2
			;;
		esac
	done
done

if [[ -s $reply ]]; then
	echo "agent reply ($(wc -c <"$reply") bytes): $(head -c 300 "$reply")"
fi
echo
{
	printf 'run\tprocess\trate/s\tsent\tanswered\tticks\tcpu_us/req(stat)\tcpu_us/req(schedstat)\tRSS_KiB\tHWM_KiB\trtt_p50_us\trtt_p99_us\tRssAnon_KiB\n'
	cat "$rows"
} | column -t -s $'\t'
echo

# Ratios of each measured process to the transport floor at the same rate,
# on both CPU columns; the target is agent ≤ 1.3× and RSS ≤ 10 MiB.
awk -F'\t' '
	$2 != "mosquitto" { stat[$3, $1] = $7; sched[$3, $1] = $8; rss[$3, $1] = $9; hwm[$3, $1] = $10; anon[$3, $1] = $13; seen[$3] = 1; runs[$1] = 1 }
	END {
		for (r in seen) {
			fs = stat[r, "floor-transport"]; fn = sched[r, "floor-transport"]
			for (t in runs) {
				if (t == "floor-transport" || !((r, t) in stat) || fs == "" || fs == "-" || fn + 0 == 0) continue
				printf "rate %s/s: %-14s / floor-transport = %5.2fx (stat)  %5.2fx (schedstat)   RSS %.1f MiB, HWM %.1f MiB, RssAnon %.1f MiB\n",
					r, t, (fs + 0 > 0 ? stat[r, t] / fs : 0), sched[r, t] / fn, rss[r, t] / 1024, hwm[r, t] / 1024, anon[r, t] / 1024
			}
		}
	}' "$rows" | sort
