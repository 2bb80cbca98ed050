// Command floor-transport is the transport floor of scripts/bench-agent.sh:
// the least a paho client can do to answer an ifstat request. It subscribes
// to P/N/request at QoS 0 and publishes one constant payload (by default a
// reply-sized JSON, or the bytes of -payload) on P/N/reply for every
// message, without reading counters, decoding or waiting on tokens. The
// agent's cost per request divided by this one's is the agent's overhead
// over bare MQTT.
//
// It answers as fast as messages come and has no limits: a benchmark peer,
// never something to run on a router.
package main
