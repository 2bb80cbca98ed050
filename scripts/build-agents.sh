#!/usr/bin/env bash
# build-agents.sh — cross-compile ifstat-agent for the routers we support.
#
# Usage: scripts/build-agents.sh [-smoke] [TARGET...]
#   TARGET is one of: mipsle mips mips64 armv6 armv7 arm64 amd64 (default: all)
#   -smoke  run each binary with -version under qemu-user (if installed)
# Environment: VERSION (default: git describe), DIST (default: dist).
#
# Static (CGO_ENABLED=0), -trimpath, stripped (-s -w), main.version set.
# Writes DIST/ifstat-agent-linux-<target>, DIST/SHA256SUMS, prints sizes.
#
# Why these settings:
#  - 32-bit MIPS routers (ER-X/MT7621, most OpenWrt MIPS) have no FPU, and a
#    hardfloat binary dies with "Illegal instruction": always softfloat.
#  - mips64 (Octeon ER-4/6P/8/12, ER-Lite) is built softfloat as well: it
#    runs on cores with and without an FPU, and the agent does no float math
#    worth an FPU.
#  - GOARM=6 for Raspberry Pi 1/Zero: the cross default (7) does not run there.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh

smoke=0
if [[ ${1:-} == -smoke ]]; then
	smoke=1
	shift
fi

router_targets "$@"

# env_for TARGET prints the GOARCH/GOMIPS/GOARM assignments and the qemu
# binary for TARGET, or fails for an unknown one.
env_for() {
	case $1 in
	mipsle) echo "GOARCH=mipsle GOMIPS=softfloat qemu-mipsel" ;;
	mips) echo "GOARCH=mips GOMIPS=softfloat qemu-mips" ;;
	mips64) echo "GOARCH=mips64 GOMIPS64=softfloat qemu-mips64" ;;
	armv6) echo "GOARCH=arm GOARM=6 qemu-arm" ;;
	armv7) echo "GOARCH=arm GOARM=7 qemu-arm" ;;
	arm64) echo "GOARCH=arm64 qemu-aarch64" ;;
	amd64) echo "GOARCH=amd64 -" ;;
	*)
		echo "unknown target $1 (want one of: ${all[*]})" >&2
		return 1
		;;
	esac
}

built=()
for t in "${targets[@]}"; do
	read -r -a spec <<<"$(env_for "$t")"
	qemu=${spec[-1]}
	unset 'spec[-1]'
	out="$dist/ifstat-agent-linux-$t"
	echo "building $out (${spec[*]})" >&2
	env CGO_ENABLED=0 GOOS=linux "${spec[@]}" \
		go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out" ./cmd/ifstat-agent
	built+=("$out")
	if [[ $smoke -eq 1 ]]; then
		if [[ $qemu == - ]]; then
			"$out" -version
		elif command -v "$qemu" >/dev/null; then
			"$qemu" "$out" -version
		else
			echo "smoke: $qemu not installed, $out not run" >&2
		fi
	fi
done

# SHA256SUMS lists what this run built, with names relative to $dist so
# that `sha256sum -c SHA256SUMS` works inside it.
(cd "$dist" && sha256sum "${built[@]##*/}") >"$dist/SHA256SUMS"

echo "version $version"
list_sizes "${built[@]}"
