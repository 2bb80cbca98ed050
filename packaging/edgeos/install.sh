#!/bin/sh
# install.sh — install ifstat-agent on an EdgeRouter (EdgeOS 2.x).
#
# Run as root from the unpacked release archive:
#   sudo sh ./install.sh
# Everything lives under /config, which survives firmware upgrades:
#   /config/ifstat/ifstat-agent                     the binary
#   /config/ifstat/agent.env                        settings (kept if present)
#   /config/scripts/post-config.d/ifstat-agent.sh   boot hook: (re)installs the
#                                                   systemd unit and starts it
# A firmware upgrade replaces / (and with it the unit and the user); the boot
# hook puts both back at the next boot. CONFIG (default /config) lets tests
# install into a scratch tree.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
config=${CONFIG:-/config}

bin=$here/ifstat-agent
[ -f "$bin" ] || bin=$here/../../ifstat-agent # layout of the release archive
if [ ! -f "$bin" ]; then
	echo "install.sh: no ifstat-agent binary next to $0" >&2
	exit 1
fi

mkdir -p "$config/ifstat" "$config/scripts/post-config.d"
cp "$bin" "$config/ifstat/ifstat-agent.new"
chmod 0755 "$config/ifstat/ifstat-agent.new"
mv -f "$config/ifstat/ifstat-agent.new" "$config/ifstat/ifstat-agent"

if [ ! -f "$config/ifstat/agent.env" ]; then
	cp "$here/agent.env" "$config/ifstat/agent.env"
	echo "install.sh: wrote $config/ifstat/agent.env: set IFSTAT_BROKER there"
fi
# The env file holds the broker password: root only. systemd reads it
# before it drops to the unprivileged user.
chmod 0600 "$config/ifstat/agent.env"

cp "$here/ifstat-agent.sh" "$config/scripts/post-config.d/ifstat-agent.sh"
chmod 0755 "$config/scripts/post-config.d/ifstat-agent.sh"

if [ -z "${CONFIG:-}" ]; then
	"$config/scripts/post-config.d/ifstat-agent.sh"
fi
echo "install.sh: installed; logs: journalctl -u ifstat-agent"
