// Package wire holds the request/reply contract between ifstat-agent and
// ifstat-bridge in code: topic names, payload types, a fast reply encoder and
// size-capped decoders that never panic on input from the network.
//
// It knows nothing about MQTT clients, counters on disk or rates; see
// docs/protocol.md for the contract in prose.
package wire
