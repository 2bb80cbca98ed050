#!/usr/bin/env bash
# bench-insn-go.sh — a Go benchmark's instructions per op on an ER-X's
# CPU: the package's tests built for mipsle (GOMIPS=softfloat, no FPU, as
# the agent is shipped) and run under qemu-mipsel with the instruction-
# counting plugin (scripts/qemu-insn.c), twice, for N and 3N ops. The
# difference over 2N ops cancels the set-up (and the benchmark framework's
# first run of one op), so the figure is the op's own.
#
# Usage: scripts/bench-insn-go.sh PACKAGE BENCHMARK [N]
#   e.g. scripts/bench-insn-go.sh ./publisher 'WatchClocks/clocks=8' 100
#        scripts/bench-insn-go.sh ./internal/netdev 'Read/er-x' 2000
#
# A count does not depend on the host's speed or load. Runs of 20 and 60
# ops of BenchmarkWatchClocks/clocks=1 varied by 10 % (its fits fall in
# the same seconds); take N large enough that 2N ops span many fits.
# Requires gcc and qemu-user with plugin support (Debian 12: qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $# -ge 2 ]] || {
	echo "usage: $0 PACKAGE BENCHMARK [N]" >&2
	exit 2
}
pkg=$1 bench=$2 n=${3:-100}
[[ $n =~ ^[1-9][0-9]*$ ]] || {
	echo "N must be a positive integer, not $n" >&2
	exit 2
}
command -v qemu-mipsel >/dev/null || {
	echo "qemu-mipsel not found (apt-get install qemu-user)" >&2
	exit 2
}
. scripts/lib.sh
start_work bench-insn-go
gcc -shared -fPIC -O2 -pthread -o "$work/qemu-insn.so" scripts/qemu-insn.c
GOOS=linux GOARCH=mipsle GOMIPS=softfloat CGO_ENABLED=0 go test -c -o "$work/pkg.test" "$pkg"

count() { # ops -> instructions of a run
	# Run in the package's directory: benchmarks read their testdata.
	(cd "$pkg" && qemu-mipsel -plugin "$work/qemu-insn.so,out=$work/insn-$1" "$work/pkg.test" \
		-test.run '^$' -test.bench "$bench" -test.benchtime "${1}x" >"$work/out-$1" 2>&1) || {
		cat "$work/out-$1" >&2
		exit 1
	}
	grep -q '^Benchmark' "$work/out-$1" || {
		echo "no benchmark matched $bench in $pkg" >&2
		exit 1
	}
	tail -1 "$work/insn-$1" | awk '{print $2}'
}
a=$(count "$n")
b=$(count $((3 * n)))
grep '^Benchmark' "$work/out-$((3 * n))" >&2
echo "$bench: $(((b - a) / (2 * n))) instructions per op (the difference of $n and $((3 * n)) ops)"
