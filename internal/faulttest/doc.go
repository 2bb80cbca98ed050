// Package faulttest is the fault suite of issue 8: tests only, run against
// a real Mosquitto and the real ifstat-agent and ifstat-bridge binaries,
// with counter trees served at known constant rates, so every value the
// bridge prints can be judged against the truth.
//
// The scenarios (faults_test.go) kill, pause and restart the broker, kill
// and restart the agent, reboot the fake router, flap an interface every
// second and kill the bridge right after its state saves; after each, the
// agent and the bridge must be back, every Netdata rate exact or a gap,
// every Home Assistant rate exact or null, totals never decreasing, the
// retained statuses online and the tariff total equal to the truth.
// hostile_test.go sends hostile replies, statuses and retained state
// copies through a real broker to a real bridge beside a good agent.
//
// What it leaves to others: the decoders' own hostile-input tables and
// fuzz targets (internal/wire, netdata-bridge/state), the load and flood
// figures (scripts/soak.sh), TLS and ACL tests (internal/brokertest,
// docker). Everything is skipped with -short; with CI=true a missing
// mosquitto fails (internal/brokertest).
package faulttest
