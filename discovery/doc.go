// Package discovery builds Home Assistant MQTT discovery payloads for the
// routers the bridge watches, the readable JSON state message those
// entities read, and the messages that remove entities of interfaces that
// are gone.
//
// It is pure: no MQTT client, no clock, no network. The Home Assistant
// output, discovery/haout, publishes what it returns and decides when;
// discovery/hatest checks the payloads against Home Assistant's rules. The
// entities, their ids and the state message are specified in
// docs/home-assistant.md. Start with Configs and State.
package discovery
