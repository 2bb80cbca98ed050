#!/usr/bin/env bash
# release.sh — build the release archives, one per architecture.
#
# Usage: scripts/release.sh [TARGET...]
#   TARGET is one of: mipsle mips mips64 armv6 armv7 arm64 amd64 (default: all)
# Environment: VERSION (default: git describe), DIST (default: dist),
#   SOURCE_DATE_EPOCH (default: the last commit's time; archive mtimes).
#
# Writes DIST/ifstat-mqtt_<version>_linux_<target>.tar.gz, each holding one
# folder ifstat-mqtt_<version>_linux_<target>/ with
#   ifstat-agent          every target (built by scripts/build-agents.sh)
#   ifstat-bridge         armv7, arm64, amd64 (the monitoring hosts)
#   README.md, LICENSE (if the repository has one), docs/install.md
#   install/<platform>/   the install files of packaging/ that fit the target:
#                         systemd and openwrt everywhere, edgeos on the
#                         EdgeRouter architectures (mipsle, mips64), netdata
#                         where there is a bridge
# and DIST/SHA256SUMS over the archives this run built (it replaces the list
# scripts/build-agents.sh leaves in the same folder).
#
# Archives are reproducible for a given commit and Go toolchain: sorted
# entries, owner 0:0, fixed mtime, gzip -n.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh

router_targets "$@"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
dist=$(cd "$dist" && pwd)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The agents: one build script for the release and for CI's cross-compile.
VERSION=$version DIST=$stage/bin scripts/build-agents.sh "${targets[@]}" >&2

# bridge_env TARGET prints the GOARCH/GOARM of a target that gets a bridge,
# or nothing.
bridge_env() {
	case $1 in
	armv7) echo "GOARCH=arm GOARM=7" ;;
	arm64) echo "GOARCH=arm64" ;;
	amd64) echo "GOARCH=amd64" ;;
	esac
}

archives=()
for t in "${targets[@]}"; do
	name=ifstat-mqtt_${version}_linux_$t
	dir=$stage/$name
	mkdir -p "$dir/docs" "$dir/install"
	cp "$stage/bin/ifstat-agent-linux-$t" "$dir/ifstat-agent"
	benv=$(bridge_env "$t")
	if [[ -n $benv ]]; then
		read -r -a spec <<<"$benv"
		echo "building $name/ifstat-bridge (${spec[*]})" >&2
		env CGO_ENABLED=0 GOOS=linux "${spec[@]}" \
			go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$dir/ifstat-bridge" ./cmd/ifstat-bridge
	fi
	cp README.md "$dir/"
	[[ ! -f LICENSE ]] || cp LICENSE "$dir/"
	[[ ! -f docs/install.md ]] || cp docs/install.md "$dir/docs/"

	platforms=(systemd openwrt)
	case $t in mipsle | mips64) platforms+=(edgeos) ;; esac
	[[ -z $benv ]] || platforms+=(netdata)
	for p in "${platforms[@]}"; do
		mkdir -p "$dir/install/$p"
		# Only what a user installs: no tests, no Go files.
		find "packaging/$p" -maxdepth 1 -type f ! -name '*.go' -exec cp -p {} "$dir/install/$p/" \;
		# Netdata's alerts sit in health.d/ beside the install script,
		# which installs them from there.
		if [[ -d packaging/$p/health.d ]]; then
			mkdir -p "$dir/install/$p/health.d"
			cp -p "packaging/$p/health.d/"*.conf "$dir/install/$p/health.d/"
		fi
	done
	if [[ -z $benv ]]; then
		rm -f "$dir/install/systemd/ifstat-bridge.service" "$dir/install/systemd/bridge.env"
	fi

	tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
		--mode='u+rwX,go+rX,go-w' -cf - "$name" | gzip -n -9 >"$dist/$name.tar.gz"
	archives+=("$name.tar.gz")
done

(cd "$dist" && sha256sum "${archives[@]}") >"$dist/SHA256SUMS"

echo "version $version"
list_sizes "${archives[@]/#/$dist/}"
