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

# free_port: a free TCP port on 127.0.0.1 (the kernel's choice for port 0; a
# tiny race with other processes is possible, and the caller's start fails).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT TIMEOUT_S: wait until 127.0.0.1:PORT accepts connections.
wait_port() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# start_mosquitto DIR MAX_QUEUED: a private mosquitto on a free 127.0.0.1
# port, logging to DIR/mosquitto.log, with max_queued_messages MAX_QUEUED
# and no connection limit. Sets $port and $mpid and appends $mpid to $pids.
start_mosquitto() {
	port=$(free_port)
	cat >"$1/mosquitto.conf" <<-EOF
		persistence false
		log_dest file $1/mosquitto.log
		log_type error
		log_type warning
		log_type notice
		max_connections -1
		max_queued_messages $2
		allow_anonymous true
		listener $port 127.0.0.1
	EOF
	if ((EUID == 0)); then echo "user root" >>"$1/mosquitto.conf"; fi
	mosquitto -c "$1/mosquitto.conf" >"$1/mosquitto.out" 2>&1 &
	mpid=$!
	pids+=("$mpid")
	wait_port "$port" 10 || { echo "mosquitto did not listen on $port" >&2; cat "$1/mosquitto.out" >&2; return 1; }
}
