#!/bin/sh
# install.sh — install ifstat-agent on OpenWrt. Run as root on the router
# from the unpacked release archive: sh ./install.sh
# Installs /usr/bin/ifstat-agent, /etc/init.d/ifstat-agent and (if absent)
# /etc/config/ifstat, adds the system user "ifstat", enables and starts the
# service. ROOT (default /) lets tests install into a scratch tree.
# Add /usr/bin/ifstat-agent, /etc/config/ifstat and /etc/init.d/ifstat-agent
# to /etc/sysupgrade.conf to keep them across sysupgrade.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=${ROOT:-}

bin=$here/ifstat-agent
[ -f "$bin" ] || bin=$here/../../ifstat-agent # layout of the release archive
if [ ! -f "$bin" ]; then
	echo "install.sh: no ifstat-agent binary next to $0" >&2
	exit 1
fi

mkdir -p "$root/usr/bin" "$root/etc/init.d" "$root/etc/config"
cp "$bin" "$root/usr/bin/ifstat-agent"
chmod 0755 "$root/usr/bin/ifstat-agent"
cp "$here/ifstat-agent.init" "$root/etc/init.d/ifstat-agent"
chmod 0755 "$root/etc/init.d/ifstat-agent"
if [ ! -f "$root/etc/config/ifstat" ]; then
	cp "$here/ifstat.config" "$root/etc/config/ifstat"
	echo "install.sh: wrote /etc/config/ifstat: set the broker there"
fi
chmod 0600 "$root/etc/config/ifstat"

if ! grep -q '^ifstat:' "$root/etc/passwd" 2>/dev/null; then
	# OpenWrt has no useradd; /lib/functions.sh has user_add.
	if [ -z "$root" ] && [ -f /lib/functions.sh ]; then
		. /lib/functions.sh
		group_exists ifstat || group_add ifstat 497 || true
		user_add ifstat 497 497 ifstat /var/empty /bin/false || true
	fi
fi

if [ -z "$root" ]; then
	/etc/init.d/ifstat-agent enable
	/etc/init.d/ifstat-agent restart
fi
echo "install.sh: installed; logs: logread -e ifstat-agent"
