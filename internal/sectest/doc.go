// Package sectest holds the security and scale-out tests of ifstat-mqtt.
// They run what a user runs — the real ifstat-agent and ifstat-bridge
// binaries, built once per test run, against a real Mosquitto — and prove
// from the outside that: TLS (server verification and client certificates)
// works and a wrong CA is refused; the Mosquitto ACL shipped in docker/
// keeps an agent's credentials to its own topics while the bridge's
// credentials suffice for the bridge; passwords never reach a log, a usage
// text or a configuration error; the agent answers requests as an
// unprivileged user; and two bridges with IFSTAT_SHARD=0/2 and 1/2 split
// the agents between them, each agent sampled by exactly one.
//
// The package has no code to import. The behaviour under test belongs to
// internal/mqttx (TLS, credentials), internal/config (secrets),
// publisher (the agent) and netdata-bridge (sharding); brokers come from
// internal/brokertest. docs/security.md and docs/scale-out.md describe what
// these tests show.
//
// Every test needs mosquitto: without it a test is skipped, except with
// CI=true, where it fails. The slow ones (the multi-process runs) are
// skipped with -short.
package sectest
