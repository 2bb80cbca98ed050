#!/bin/sh
# /config/scripts/post-config.d/ifstat-agent.sh — EdgeOS runs every script in
# this folder as root at the end of each boot, after the configuration is
# loaded. Firmware upgrades keep /config but replace the root filesystem, so
# this hook recreates what an upgrade removes: the unprivileged user and the
# systemd unit (EdgeOS 2.x is Debian stretch with systemd 232), then starts
# the agent. Running it again is harmless.
set -eu

bin=/config/ifstat/ifstat-agent
env=/config/ifstat/agent.env
unit=/etc/systemd/system/ifstat-agent.service
user=ifstat

if [ ! -x "$bin" ]; then
	logger -t ifstat-agent "post-config: $bin missing, not started"
	exit 0
fi

# A system user without home or shell: the agent only reads the
# world-readable /proc/net/dev and /sys/class/net. (systemd 232 has
# DynamicUser, but its early versions are buggy; a static user is safer.)
if ! id "$user" >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
		user=nobody
fi

cat >"$unit.tmp" <<UNIT
# written by /config/scripts/post-config.d/ifstat-agent.sh; edits are lost
[Unit]
Description=ifstat-agent: per-second interface counters over MQTT
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=$bin
EnvironmentFile=-$env
User=$user
Restart=on-failure
RestartSec=5s
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=full
ProtectHome=yes
PrivateTmp=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX

[Install]
WantedBy=multi-user.target
UNIT
mv -f "$unit.tmp" "$unit"

systemctl daemon-reload
systemctl enable ifstat-agent.service >/dev/null 2>&1 || true
# restart, not start: a reinstall with a new binary must take effect.
systemctl restart ifstat-agent.service
