#!/usr/bin/env bash
# bench-insn-kernel.sh — the kernel's side of the agent's probes on a MIPS
# router, in instructions: Debian's mipsel kernel (4kc-malta) boots under
# qemu-system-mipsel with scripts/qemu-insn.c loaded, which counts every
# instruction the guest executes (an idle CPU executes none), and runs
# floor-read: N reads of /proc/net/dev with D dummy interfaces (opened,
# read and closed each time, or kept open and re-read with pread from
# offset 0 as the agent does), N reads of one sysfs counter
# (/sys/class/net/lo/statistics/rx_packets), or M sleeps of 1 ms to an
# absolute instant (a probe step). A boot that does them less
# one that does not, less floor-read's own instructions under qemu-mipsel
# (user space only), divided by N or M, is the kernel's work per read or
# per sleep. scripts/bench-insn.sh counts the agent's own instructions.
#
# Usage: scripts/bench-insn-kernel.sh
# Environment: READS (default 20000), SLEEPS (default 10000), ROWS (default
#   "proc keep sysfs sleep": which of the above to count)
# Requires root (dpkg --add-architecture mipsel, apt-get update and
# download), gcc, cpio, qemu-system-mips and qemu-user. A boot counts
# within about 50 million instructions of another: with the defaults,
# about 2,500 per read and 5,000 per sleep.
set -euo pipefail
cd "$(dirname "$0")/.."

reads=${READS:-20000}
sleeps=${SLEEPS:-10000}
rows=${ROWS:-proc keep sysfs sleep}
for r in $rows; do
	case $r in
	proc | keep | sysfs | sleep) ;;
	*)
		echo "ROWS: unknown row $r (proc keep sysfs sleep)" >&2
		exit 2
		;;
	esac
done
. scripts/lib.sh
start_work bench-insn-kernel

for c in gcc cpio qemu-system-mipsel qemu-mipsel; do
	command -v "$c" >/dev/null || {
		echo "$c not found (apt-get install gcc cpio qemu-system-mips qemu-user)" >&2
		exit 2
	}
done
gcc -shared -fPIC -O2 -pthread -o "$work/qemu-insn.so" scripts/qemu-insn.c
GOOS=linux GOARCH=mipsle GOMIPS=softfloat CGO_ENABLED=0 go build -trimpath -o "$work/floor-read" ./internal/tools/bench/floor-read

if ! dpkg --print-foreign-architectures | grep -qx mipsel; then
	dpkg --add-architecture mipsel
	apt-get update -qq
fi
kernel=$(apt-cache depends linux-image-4kc-malta:mipsel | awk '/Depends: linux-image-/ { sub(/:mipsel$/, "", $2); print $2; exit }')
(cd "$work" && apt-get download -qq "$kernel:mipsel" busybox-static:mipsel 2>/dev/null)
for d in "$work"/*.deb; do
	dpkg-deb -x "$d" "$work/root"
done

init=$work/initrd
mkdir -p "$init"/{bin,lib,proc,sys,dev}
cp "$work/root/bin/busybox" "$work/floor-read" "$init/bin/"
cp "$(find "$work/root/lib/modules" -name dummy.ko | head -1)" "$init/lib/"
cat >"$init/init" <<'INIT'
#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
arg() { $bb sed -n "s/.* $1=\([0-9]*\).*/\1/p" /proc/cmdline; }
d=$(arg dummies)
if [ "${d:-0}" -gt 0 ]; then
	$bb insmod /lib/dummy.ko numdummies="$d"
	for i in $($bb seq 0 $((d - 1))); do $bb ip link set "dummy$i" up; done
fi
$bb ip link set lo up
# mode: 0 /proc/net/dev opened each time, 1 kept open, 2 a sysfs counter
# opened each time, 3 kept open.
set -- -count "$(arg reads)" -sleeps "$(arg sleeps)"
m=$(arg mode)
[ "$((${m:-0} % 2))" = 1 ] && set -- "$@" -keep
[ "${m:-0}" -ge 2 ] && set -- "$@" -file /sys/class/net/lo/statistics/rx_packets
/bin/floor-read "$@"
$bb poweroff -f
INIT
chmod +x "$init/init"
(cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")

# boot DUMMIES READS SLEEPS [MODE]: the guest's instructions.
boot() {
	rm -f "$work/count"
	timeout 900 qemu-system-mipsel -M malta -m 256 -nographic -no-reboot \
		-kernel "$work"/root/boot/vmlinuz-* -initrd "$work/initrd.gz" \
		-append "console=ttyS0 quiet dummies=$1 reads=$2 sleeps=$3 mode=${4:-0} " \
		-plugin "$work/qemu-insn.so,out=$work/count" >"$work/boot.log" 2>&1
	grep -q 'floor-read: ' "$work/boot.log" || {
		cat "$work/boot.log" >&2
		exit 1
	}
	tail -1 "$work/count" | cut -d' ' -f2
}
# user READS SLEEPS [FLAGS...]: floor-read's own instructions under
# qemu-mipsel (its system calls run on this machine's kernel, uncounted).
user() {
	rm -f "$work/ucount"
	qemu-mipsel -plugin "$work/qemu-insn.so,out=$work/ucount" "$work/floor-read" -count "$1" -sleeps "$2" "${@:3}" 2>/dev/null
	tail -1 "$work/ucount" | cut -d' ' -f2
}

echo "kernel: $kernel; per operation, the kernel's instructions (the boot's less floor-read's own)"
u0=$(user 0 0)
# per DUMMIES MODE LABEL FLAGS...: one row.
per() {
	local d=$1 mode=$2 label=$3 ur b0 b1
	shift 3
	ur=$((($(user "$reads" 0 "$@") - u0) / reads))
	b0=$(boot "$d" 0 0 "$mode")
	b1=$(boot "$d" "$reads" 0 "$mode")
	printf '%s: %7d (floor-read: %d)\n' "$label" $(((b1 - b0) / reads - ur)) "$ur"
}
sysattr=/sys/class/net/lo/statistics/rx_packets
for r in $rows; do
	case $r in
	proc)
		for d in 1 10 30; do
			per "$d" 0 "$(printf 'read of /proc/net/dev (open, read, close), %2d interfaces' $((d + 1)))"
		done
		;;
	keep)
		for d in 1 10 30; do
			per "$d" 1 "$(printf 'read of /proc/net/dev (kept open, pread), %2d interfaces' $((d + 1)))" -keep
		done
		;;
	sysfs)
		per 10 2 "read of one sysfs counter (open, read, close), 11 interfaces" -file "$sysattr"
		per 10 3 "read of one sysfs counter (kept open, pread), 11 interfaces" -file "$sysattr" -keep
		;;
	sleep)
		us=$((($(user 0 "$sleeps") - u0) / sleeps))
		b0=$(boot 0 0 0)
		b1=$(boot 0 0 "$sleeps")
		printf 'sleep of 1 ms (clock_nanosleep, TIMER_ABSTIME): %7d (floor-read: %d)\n' $(((b1 - b0) / sleeps - us)) "$us"
		;;
	esac
done
