// Package brokertest runs a real MQTT broker for tests: a Mosquitto process
// on a free 127.0.0.1 port, configured in t.TempDir() and stopped by
// t.Cleanup, plus connected paho clients and non-blocking subscriptions.
//
// Mosquitto is looked up on PATH, then in /usr/sbin and /usr/local/sbin.
// When it is missing, Start fails the test if CI=true and otherwise falls back
// to an embedded mochi-mqtt/server v2 broker (allow-all auth) with the same
// API; IFSTAT_TEST_BROKER selects the broker explicitly:
//
//	IFSTAT_TEST_BROKER=embedded    always the embedded broker (even with CI=true)
//	IFSTAT_TEST_BROKER=mosquitto   Mosquitto or a test failure
//	IFSTAT_TEST_BROKER=/path/to/mosquitto
//
// The embedded broker cannot read mosquitto.conf lines, so tests that pass
// WithConfig or WithListener are skipped there; WithTLSListener works on
// both, and NewCerts writes a throwaway CA, server and client certificate
// for it. Pause needs a process to SIGSTOP and skips on the embedded broker.
//
// Running as root (as our CI does), Mosquitto 2.x would drop privileges to
// the "mosquitto" user, who cannot open files in the 0700 t.TempDir(); the
// generated configuration therefore says "user root", which Mosquitto
// reads as "do not change user" (a no-op when not started as root).
//
// The package only starts and stops brokers and hands out test clients; it
// knows nothing about ifstat topics or payloads (see internal/wire) nor about
// how production code configures paho (see internal/mqttx).
package brokertest
