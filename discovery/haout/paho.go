package haout

import mqtt "github.com/eclipse/paho.mqtt.golang"

// PahoPublisher publishes through a paho client without waiting for the
// token: a message published while the client is disconnected is lost
// (QoS 0) or queued by paho (QoS 1), and Output republishes configs on
// Connected and Birth. paho's Publish waits only while its outbound queue
// is full, at most the client's write timeout.
type PahoPublisher struct {
	Client mqtt.Client
}

// Publish sends one message.
func (p PahoPublisher) Publish(topic string, qos byte, retained bool, payload []byte) {
	p.Client.Publish(topic, qos, retained, payload)
}

// PublishToken sends one message and returns its token (TokenPublisher).
func (p PahoPublisher) PublishToken(topic string, qos byte, retained bool, payload []byte) mqtt.Token {
	return p.Client.Publish(topic, qos, retained, payload)
}
