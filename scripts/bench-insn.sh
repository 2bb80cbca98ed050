#!/usr/bin/env bash
# bench-insn.sh — what the agent costs a MIPS router, counted in guest
# instructions: the agent built for an ER-X (mipsle, softfloat) runs under
# qemu-mipsel with a plugin that counts the instructions it executes
# (scripts/qemu-insn.c), in the runs of scripts/bench-watch.sh. A count
# does not depend on the host's speed or load, so unlike CPU time under
# emulation one run per build compares.
#
# Usage: scripts/bench-insn.sh
# Environment:
#   RUNS          runs of bench-watch.sh (default: off-idle auto-idle
#                 off-busy auto-busy auto-oneclock 20ms-busy)
#   SECONDS_EACH  measured seconds per run (default 30)
#   SKIP          seconds of each run not counted (default 8: the start-up
#                 burst). The adaptive watch's first minute or so, while
#                 its fits narrow, reads twice as often as later: for the
#                 steady cost, SECONDS_EACH=150 SKIP=60.
#
# Counted: the agent's own instructions per second from SKIP seconds after
# its start to the end of the run. Not
# counted: the kernel's work for its system calls (the reads of
# /proc/net/dev, the probes' sleeps); docs/accuracy.md has those, measured
# on a MIPS kernel under qemu-system-mipsel, and the sum for an ER-X.
# Requires gcc and qemu-user with plugin support (Debian 12: qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-off-idle auto-idle off-busy auto-busy auto-oneclock 20ms-busy}
. scripts/lib.sh
start_work bench-insn

command -v qemu-mipsel >/dev/null || {
	echo "qemu-mipsel not found (apt-get install qemu-user)" >&2
	exit 2
}
gcc -shared -fPIC -O2 -pthread -o "$work/qemu-insn.so" scripts/qemu-insn.c

printf '%-10s %12s %8s %12s\n' run "M insn/s" seconds watch_reads
for r in $runs; do
	out=$work/$r.txt
	RUNS=$r SECONDS_EACH=${SECONDS_EACH:-30} AGENT_GOARCH=mipsle \
		AGENT_EXEC="qemu-mipsel -r 4.14.54-UBNT -plugin $work/qemu-insn.so,out=$out" \
		scripts/bench-watch.sh >"$work/$r.log" 2>&1 || {
		cat "$work/$r.log" >&2
		exit 1
	}
	reads=$(grep -o 'watch_reads=[0-9]*' "$work/$r.log" | tail -1 | cut -d= -f2)
	# The agent's CPU budget at work: under qemu its CPU time is the
	# emulator's, so the 1 % budget binds where it would not on amd64.
	grep -h 'CPU budget\|watch_thinned_s' "$work/$r.log" | sed 's/^[^:]*: /  /' >&2 || true
	# The ticker's lines, one a second: skip SKIP of them and the line
	# at exit.
	awk -v r="$r" -v reads="${reads:-?}" -v skip="${SKIP:-8}" '
		{ t[NR] = $1; c[NR] = $2 }
		END {
			if (NR < skip + 4) { printf "%-10s %12s\n", r, "too short"; exit }
			a = skip; b = NR - 1
			printf "%-10s %12.2f %8.0f %12s\n", r, (c[b] - c[a]) / (t[b] - t[a]) / 1e6, t[b] - t[a], reads
		}' "$out"
done
