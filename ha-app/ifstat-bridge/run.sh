#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# Maps the app's options and the Supervisor's MQTT service to the bridge's
# IFSTAT_* variables, then runs the bridge in the foreground.
# netdata-bridge/ha_test.go reads the "opt"/"onoff" lines below: each maps
# one option of config.yaml to one variable the bridge knows.
set -e

# opt OPTION VARIABLE: exports VARIABLE when the option has a value.
opt() {
	if bashio::config.has_value "$1"; then
		export "$2=$(bashio::config "$1")"
	fi
}

# onoff OPTION VARIABLE: a bool option as the bridge's on/off.
onoff() {
	if bashio::config.true "$1"; then
		export "$2=on"
	else
		export "$2=off"
	fi
}

# The broker, user and password the Supervisor hands over (services:
# mqtt:need, the Mosquitto broker app or another provider).
if bashio::services.available mqtt; then
	scheme=tcp
	if bashio::var.true "$(bashio::services mqtt ssl)"; then
		scheme=ssl
	fi
	export IFSTAT_BROKER="${scheme}://$(bashio::services mqtt host):$(bashio::services mqtt port)"
	IFSTAT_USERNAME="$(bashio::services mqtt username)"
	IFSTAT_PASSWORD="$(bashio::services mqtt password)"
	export IFSTAT_USERNAME IFSTAT_PASSWORD
fi

onoff ha IFSTAT_HA
onoff netdata IFSTAT_NETDATA
opt interval IFSTAT_INTERVAL
opt ha_interval IFSTAT_HA_INTERVAL
opt ha_prefix IFSTAT_HA_PREFIX
opt topic_prefix IFSTAT_TOPIC_PREFIX
opt log_level IFSTAT_LOG_LEVEL
opt bridge_id IFSTAT_BRIDGE_ID
opt nodes IFSTAT_NODES
opt obsolete_after IFSTAT_OBSOLETE_AFTER
opt max_gap IFSTAT_MAX_GAP
opt state_interval IFSTAT_STATE_INTERVAL
opt tariffs IFSTAT_TARIFFS
opt tariff_tz IFSTAT_TARIFF_TZ
opt billing_day IFSTAT_BILLING_DAY
opt tariff_caps IFSTAT_TARIFF_CAPS
# An explicit broker overrides the Supervisor's.
opt broker IFSTAT_BROKER
opt username IFSTAT_USERNAME
opt password IFSTAT_PASSWORD

# Totals survive restarts and updates in the app's /data (backed up too).
export IFSTAT_STATE_DIR=/data

if [ -z "${IFSTAT_BROKER:-}" ]; then
	bashio::exit.nok "No MQTT broker: install the Mosquitto broker app or set the broker option."
fi
bashio::log.info "ifstat-bridge on ${IFSTAT_BROKER}"
exec /usr/bin/ifstat-bridge
