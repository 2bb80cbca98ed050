#!/bin/sh
# install-plugin.sh — install ifstat-bridge as Netdata's external plugin
# ifstat.plugin, with its settings file ifstat.conf.
#
# Usage (as root, from the unpacked release archive or a checkout):
#   sh install-plugin.sh [BRIDGE_BINARY] [IFSTAT_NAME=value ...]
# BRIDGE_BINARY defaults to ifstat-bridge next to this script or two levels
# up (the release archive's layout, or a checkout after
# "go build -o ifstat-bridge ./cmd/ifstat-bridge").
#
# ifstat.conf is written from the template next to this script the first
# time and kept afterwards. Each IFSTAT_NAME=value argument sets that
# variable in it: the first active NAME= line is replaced in place and any
# later ones are removed (the last one would win); with none, a commented
# "#NAME=" example line is replaced, else the line is appended. Running the
# script again with new values therefore edits the file, never adds a
# second line. (A password given here lands in the shell's history: edit
# the file for that one.)
#
# The alerts, health.d/ifstat.conf next to this script, go to health.d/ in
# the same configuration directory and are replaced on every run, so an
# upgrade brings the new ones; an installed copy that differs from the new
# file is kept as health.d/ifstat.conf.old (Netdata reads only *.conf).
# Change alerts in a file of your own in health.d/ instead.
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

bin=
for a in "$@"; do
	case $a in
	IFSTAT_*=*)
		name=${a%%=*}
		case $name in
		*[!A-Z0-9_]*)
			echo "install-plugin.sh: $name: not a variable name (IFSTAT_ and A-Z, 0-9, _)" >&2
			exit 2
			;;
		esac
		;;
	-*)
		echo "usage: install-plugin.sh [BRIDGE_BINARY] [IFSTAT_NAME=value ...]" >&2
		exit 2
		;;
	*)
		if [ -n "$bin" ]; then
			echo "install-plugin.sh: two binaries given: $bin and $a" >&2
			exit 2
		fi
		bin=$a
		;;
	esac
done
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
	echo "install-plugin.sh: wrote $conf/ifstat.conf from the template"
	case " $* " in
	*" IFSTAT_BROKER="*) ;;
	*) echo "install-plugin.sh: check IFSTAT_BROKER there (run again with IFSTAT_BROKER=URL, or edit the file)" ;;
	esac
fi

# The alerts: replaced, never edited in place (see the top).
health=$here/health.d/ifstat.conf
hdir=$root$conf/health.d
if [ -f "$health" ]; then
	mkdir -p "$hdir"
	if [ -f "$hdir/ifstat.conf" ] && ! cmp -s "$health" "$hdir/ifstat.conf"; then
		cp -p "$hdir/ifstat.conf" "$hdir/ifstat.conf.old"
		echo "install-plugin.sh: $conf/health.d/ifstat.conf differed from this version's: kept as ifstat.conf.old"
	fi
	cp "$health" "$hdir/ifstat.conf.new"
	chmod 0644 "$hdir/ifstat.conf.new"
	mv -f "$hdir/ifstat.conf.new" "$hdir/ifstat.conf"
	echo "install-plugin.sh: installed the alerts in $conf/health.d/ifstat.conf"
else
	echo "install-plugin.sh: no health.d/ifstat.conf next to this script: alerts not installed" >&2
fi

# set_var NAME VALUE sets NAME=VALUE in ifstat.conf as described above. awk
# takes the value from the environment, so no character in it is special.
set_var() {
	f=$root$conf/ifstat.conf
	(umask 077 && NAME=$1 VALUE=$2 awk '
		function key(line) {
			sub(/^[ \t]*/, "", line)
			sub(/^export[ \t]+/, "", line)
			sub(/[ \t]*=.*$/, "", line)
			return line
		}
		{ lines[NR] = $0 }
		/^[ \t]*#/ { c = $0; sub(/^[ \t]*#[ \t]*/, "", c); if (!example && key(c) == ENVIRON["NAME"] && c ~ /=/) example = NR; next }
		/=/ && key($0) == ENVIRON["NAME"] { if (first) drop[NR] = 1; else first = NR }
		END {
			at = first ? first : example
			for (i = 1; i <= NR; i++) {
				if (i == at) print ENVIRON["NAME"] "=" ENVIRON["VALUE"]
				else if (!drop[i]) print lines[i]
			}
			if (!at) print ENVIRON["NAME"] "=" ENVIRON["VALUE"]
		}' "$f" >"$f.new")
	# cat keeps the file's mode and group.
	cat "$f.new" >"$f"
	rm -f "$f.new"
	echo "install-plugin.sh: set $1 in $conf/ifstat.conf"
}
for a in "$@"; do
	case $a in
	IFSTAT_*=*) set_var "${a%%=*}" "${a#*=}" ;;
	esac
done

echo "install-plugin.sh: installed $plugins/ifstat.plugin, settings in $conf/ifstat.conf"
echo "install-plugin.sh: now restart Netdata (systemctl restart netdata; without systemd: stop netdata and start it again)"
