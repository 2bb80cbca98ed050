package bridge_test

import (
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/haout"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
)

// TestPublisherGivesTokens: the bridge's publisher must let haout wait for
// the configs after a birth (haout.TokenPublisher); without one haout
// would only delay the states, and a token that never completes before
// the client exists would hold them for its whole cap.
func TestPublisherGivesTokens(t *testing.T) {
	l := logrus.New()
	l.SetLevel(logrus.PanicLevel)
	b, err := bridge.New(bridge.Config{Interval: time.Second, ObsoleteAfter: time.Minute, MaxGap: 10 * time.Second, BridgeID: "test"}, logrus.NewEntry(l))
	if err != nil {
		t.Fatal(err)
	}
	tp, ok := b.Publisher().(haout.TokenPublisher)
	if !ok {
		t.Fatalf("%T does not implement haout.TokenPublisher", b.Publisher())
	}
	tok := tp.PublishToken("ifstat/x", 0, false, nil)
	select {
	case <-tok.Done():
	default:
		t.Fatal("the token of a publish without a client is not complete")
	}
	if !tok.WaitTimeout(0) || tok.Error() != nil {
		t.Errorf("token without a client: WaitTimeout %v, Error %v; want complete, nil", tok.WaitTimeout(0), tok.Error())
	}
}
