// Package mqttx sets up paho MQTT clients the way every ifstat binary needs
// them: TLS and credentials from config.Common, a retained last will, retry
// from the first connect while the broker is down, bounded reconnect backoff,
// handlers that run concurrently so a slow one cannot stall pings, and an
// OnConnect hook that runs on every (re)connect so subscriptions and birth
// messages follow the connection.
//
// It leaves topics, payloads and what to do with messages to its callers
// (publisher, netdata-bridge).
package mqttx
