# lib.sh — shell helpers of the benchmark and release scripts; source it.

# start_work NAME [keep]: $work, a new temporary directory (removed on exit
# unless keep is given), and $pids, the processes this script starts; on
# exit each is killed by its PID and reaped, and nothing else is touched.
start_work() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	keep_work=${2:-}
	pids=()
	trap stop_work EXIT
}

stop_work() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ -n "$keep_work" ] || rm -rf "$work"
}

# list_sizes FILE...: one line per file, its size in bytes and MB.
list_sizes() {
	local f
	for f in "$@"; do
		stat -c '%s %n' "$f" | awk '{ printf "%10d bytes  %5.2f MB  %s\n", $1, $1 / 1e6, $2 }'
	done
}

# all is every router we build for (docs/commands_test.go reads it).
all=(mipsle mips mips64 armv6 armv7 arm64 amd64)

# router_targets [TARGET...]: $targets, the routers named (default: $all),
# $version from git, and $dist, created.
router_targets() {
	targets=("$@")
	if [[ ${#targets[@]} -eq 0 ]]; then
		targets=("${all[@]}")
	fi
	version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
	dist=${DIST:-dist}
	mkdir -p "$dist"
}
