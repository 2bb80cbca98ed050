#!/bin/sh
# install-plugin.sh — install ifstat-bridge as Netdata's external plugin
# ifstat.plugin, with its settings file ifstat.conf.
#
# Usage (as root, from the unpacked release archive or a checkout):
#   sh install-plugin.sh [BRIDGE_BINARY]
# BRIDGE_BINARY defaults to ifstat-bridge next to this script or two levels
# up (the release archive's layout).
#
# Where Netdata keeps its plugins and user configuration:
#   Netdata's own static install (kickstart.sh --static-only):
#       /opt/netdata/usr/libexec/netdata/plugins.d   /opt/netdata/etc/netdata
#   Debian/Ubuntu packages of Netdata >= 1.38 and Netdata's own .deb/.rpm:
#       /usr/libexec/netdata/plugins.d               /etc/netdata
#   Debian 12's netdata 1.37 and older distribution packages:
#       /usr/lib/netdata/plugins.d                   /etc/netdata
# The first that exists wins; PLUGINS_DIR and CONFIG_DIR override the
# detection. ROOT (default empty) prefixes every path, for tests.
# The binary must be called ifstat.plugin: Netdata runs every *.plugin in
# plugins.d, with its update-every as the first argument.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=${ROOT:-}

bin=${1:-}
if [ -z "$bin" ]; then
	for b in "$here/ifstat-bridge" "$here/../../ifstat-bridge"; do
		[ -f "$b" ] && bin=$b && break
	done
fi
if [ -z "$bin" ] || [ ! -f "$bin" ]; then
	echo "install-plugin.sh: no ifstat-bridge binary (give its path as the argument)" >&2
	exit 1
fi

plugins=${PLUGINS_DIR:-}
conf=${CONFIG_DIR:-}
if [ -z "$plugins" ]; then
	for p in /opt/netdata/usr/libexec/netdata/plugins.d /usr/libexec/netdata/plugins.d /usr/lib/netdata/plugins.d; do
		if [ -d "$root$p" ]; then
			plugins=$p
			break
		fi
	done
fi
if [ -z "$plugins" ]; then
	echo "install-plugin.sh: no Netdata plugins.d directory found; set PLUGINS_DIR" >&2
	exit 1
fi
if [ -z "$conf" ]; then
	case $plugins in
	/opt/netdata/*) conf=/opt/netdata/etc/netdata ;;
	*) conf=/etc/netdata ;;
	esac
fi

# Netdata runs plugins as its own user; the plugin and its settings (which
# may hold the broker password) are readable by that group only.
group=netdata
if ! grep -q "^$group:" "$root/etc/group" 2>/dev/null; then
	group=
fi

mkdir -p "$root$conf"
cp "$bin" "$root$plugins/ifstat.plugin.new"
chmod 0750 "$root$plugins/ifstat.plugin.new"
[ -z "$group" ] || chgrp "$group" "$root$plugins/ifstat.plugin.new"
mv -f "$root$plugins/ifstat.plugin.new" "$root$plugins/ifstat.plugin"

if [ ! -f "$root$conf/ifstat.conf" ]; then
	cp "$here/ifstat.conf" "$root$conf/ifstat.conf"
	chmod 0640 "$root$conf/ifstat.conf"
	[ -z "$group" ] || chgrp "$group" "$root$conf/ifstat.conf"
	echo "install-plugin.sh: wrote $conf/ifstat.conf: set IFSTAT_BROKER there"
fi
echo "install-plugin.sh: installed $plugins/ifstat.plugin, settings in $conf/ifstat.conf"
echo "install-plugin.sh: now restart Netdata (systemctl restart netdata)"
