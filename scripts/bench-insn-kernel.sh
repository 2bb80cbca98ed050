#!/usr/bin/env bash
# bench-insn-kernel.sh — the kernel's side of the agent's probes on a MIPS
# router, in instructions: Debian's mipsel kernel (4kc-malta) boots under
# qemu-system-mipsel with scripts/qemu-insn.c loaded, which counts every
# instruction the guest executes (an idle CPU executes none), and runs
# floor-read: N reads of /proc/net/dev with D dummy interfaces, or M sleeps
# of 1 ms to an absolute instant (a probe step). A boot that does them less
# one that does not, less floor-read's own instructions under qemu-mipsel
# (user space only), divided by N or M, is the kernel's work per read or
# per sleep. scripts/bench-insn.sh counts the agent's own instructions.
#
# Usage: scripts/bench-insn-kernel.sh
# Environment: READS (default 20000), SLEEPS (default 10000)
# Requires root (dpkg --add-architecture mipsel, apt-get update and
# download), gcc, cpio, qemu-system-mips and qemu-user. A boot counts
# within about 50 million instructions of another: with the defaults,
# about 2,500 per read and 5,000 per sleep.
set -euo pipefail
cd "$(dirname "$0")/.."

reads=${READS:-20000}
sleeps=${SLEEPS:-10000}
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
/bin/floor-read -count "$(arg reads)" -sleeps "$(arg sleeps)"
$bb poweroff -f
INIT
chmod +x "$init/init"
(cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")

# boot DUMMIES READS SLEEPS: the guest's instructions.
boot() {
	rm -f "$work/count"
	timeout 900 qemu-system-mipsel -M malta -m 256 -nographic -no-reboot \
		-kernel "$work"/root/boot/vmlinuz-* -initrd "$work/initrd.gz" \
		-append "console=ttyS0 quiet dummies=$1 reads=$2 sleeps=$3 " \
		-plugin "$work/qemu-insn.so,out=$work/count" >"$work/boot.log" 2>&1
	grep -q 'floor-read: ' "$work/boot.log" || {
		cat "$work/boot.log" >&2
		exit 1
	}
	tail -1 "$work/count" | cut -d' ' -f2
}
# user READS SLEEPS: floor-read's own instructions under qemu-mipsel.
user() {
	rm -f "$work/ucount"
	qemu-mipsel -plugin "$work/qemu-insn.so,out=$work/ucount" "$work/floor-read" -count "$1" -sleeps "$2" 2>/dev/null
	tail -1 "$work/ucount" | cut -d' ' -f2
}

echo "kernel: $kernel; per operation, the kernel's instructions (the boot's less floor-read's own)"
u0=$(user 0 0)
ur=$(((($(user "$reads" 0) - u0)) / reads))
us=$(((($(user 0 "$sleeps") - u0)) / sleeps))
for d in 1 10 30; do
	b0=$(boot "$d" 0 0)
	b1=$(boot "$d" "$reads" 0)
	printf 'read of /proc/net/dev, %2d interfaces: %7d (floor-read: %d)\n' $((d + 1)) $(((b1 - b0) / reads - ur)) "$ur"
done
b0=$(boot 0 0 0)
b1=$(boot 0 0 "$sleeps")
printf 'sleep of 1 ms (clock_nanosleep, TIMER_ABSTIME): %7d (floor-read: %d)\n' $(((b1 - b0) / sleeps - us)) "$us"
