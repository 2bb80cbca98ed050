// Package docker holds the container files of ifstat-mqtt — a multi-stage
// Dockerfile, compose.yaml (Mosquitto with a password file and an ACL, the
// bridge, Netdata with ifstat.plugin, Home Assistant) and the Mosquitto
// configuration — and the tests that check them without Docker: the compose
// file is read as a small YAML subset, the ACL is evaluated with Mosquitto's
// semantics against the topics internal/wire builds, and a real Mosquitto
// is started once with the ACL and the password file.
//
// There is no Go code to import here; the topics themselves belong to
// internal/wire, discovery and netdata-bridge/state.
package docker
