package sectest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
)

// simAgent is a lightweight agent on a paho connection: it announces
// itself like the real one (retained online, offline as its will) and
// answers every request with the counters that counters gives for its own
// monotonic clock.
type simAgent struct {
	node     string
	requests atomic.Int64
}

// ramp grows 125,000 bytes/s received and 12,500 sent.
func ramp(mono time.Duration) (rx, tx uint64) {
	s := mono.Seconds()
	return 1e6 + uint64(125_000*s), 2e6 + uint64(12_500*s)
}

func startSim(t *testing.T, b *brokertest.Broker, node string, counters func(mono time.Duration) (rx, tx uint64)) *simAgent {
	t.Helper()
	a := &simAgent{node: node}
	topics := wire.Topics{Prefix: wire.DefaultPrefix, Node: node}
	begin := time.Now()
	c := b.Client(t, "sim-"+node, func(o *mqtt.ClientOptions) {
		o.SetBinaryWill(topics.Status(), []byte(wire.StatusOffline), 1, true)
	})
	handler := func(c mqtt.Client, m mqtt.Message) {
		req, err := wire.DecodeRequest(m.Payload())
		if err != nil {
			return
		}
		a.requests.Add(1)
		mono := time.Since(begin)
		rx, tx := counters(mono)
		p, err := json.Marshal(wire.Reply{
			ID: req.ID, Node: node, MonoNS: int64(mono) + 1, TimeNS: time.Now().UnixNano(),
			BootID: "sim-boot", RunID: "sim-run",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, TxBytes: tx, RxPackets: rx / 1000, TxPackets: tx / 1000, Ifindex: 2}},
		})
		if err != nil {
			return
		}
		c.Publish(topics.Reply(), 0, false, p) // never waited on: handlers must not block
	}
	if tok := c.Subscribe(topics.Request(), 0, handler); !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("sim %s: subscribe: %v", node, tok.Error())
	}
	if tok := c.Publish(topics.Status(), 1, true, wire.StatusOnline); !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("sim %s: status: %v", node, tok.Error())
	}
	return a
}

// TestShardedBridges runs two real bridges with IFSTAT_SHARD=0/2 and 1/2
// on one Mosquitto with 20 simulated agents: each agent is charted by
// exactly the bridge bridge.ShardOf assigns it to, the union is every
// agent; when bridge 1 is killed its agents get no more requests and
// bridge 0 does not take them over; when bridge 1 returns it samples them
// again.
func TestShardedBridges(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto, two bridges and 20 simulated agents")
	t.Parallel()
	const agents = 20
	b := startBroker(t)
	sims := map[string]*simAgent{}
	want := [2][]string{}
	for i := range agents {
		node := fmt.Sprintf("router-%02d", i)
		sims[node] = startSim(t, b, node, ramp)
		k := bridge.ShardOf(node, 2)
		want[k] = append(want[k], node)
	}
	if len(want[0]) == 0 || len(want[1]) == 0 {
		t.Fatalf("the node names fall into one shard only (%q); the test would prove nothing", want)
	}
	t.Logf("shard 0: %q\nshard 1: %q", want[0], want[1])

	startBridge := func(k int) *proc {
		return start(t, fmt.Sprintf("bridge %d/2", k), bins(t).bridge,
			bridgeEnv(b.URL(), fmt.Sprintf("shard-%d", k), fmt.Sprintf("IFSTAT_SHARD=%d/2", k), "IFSTAT_LOG_LEVEL=info"), nil)
	}
	// charted waits until br has rated every node of its shard, then
	// checks it charts nothing else.
	charted := func(br *proc, k int) {
		t.Helper()
		br.waitFor(t, fmt.Sprintf("charts of %q", want[k]), func() bool {
			nodes := parsePlugind(br.stdout.String()).nodes()
			for _, n := range want[k] {
				if !slices.Contains(nodes, n) {
					return false
				}
			}
			return true
		})
	}
	began := time.Now()
	bridges := [2]*proc{startBridge(0), startBridge(1)}
	for k, br := range bridges {
		charted(br, k)
	}
	t.Logf("both shards charted %v after the bridges' start", time.Since(began).Round(time.Millisecond))
	for k, br := range bridges {
		if diff := cmp.Diff(want[k], parsePlugind(br.stdout.String()).nodes()); diff != "" {
			t.Errorf("bridge %d/2 charts (-want +got):\n%s", k, diff)
		}
	}

	// Kill bridge 1. Its agents are not taken over: no bridge asks them
	// any more, and bridge 0 keeps to its own. Bridge 1's will marks the
	// moment the broker has read everything it sent.
	watcher := b.Client(t, "will-watcher")
	wills := brokertest.Subscribe(t, watcher, wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "shard-1"}.Status(), 8)
	killed := time.Now()
	bridges[1].signal(t, syscall.SIGKILL)
	for offline := false; !offline; {
		select {
		case m := <-wills:
			offline = string(m.Payload()) == wire.StatusOffline
		case <-time.After(guard):
			t.Fatalf("no offline will of bridge 1 within %v", guard)
		}
	}
	// moreRequests waits until bridge 0 has asked every one of its nodes
	// twice more (it asks every 500 ms).
	moreRequests := func(what string) {
		t.Helper()
		from := map[string]int64{}
		for _, n := range want[0] {
			from[n] = sims[n].requests.Load()
		}
		bridges[0].waitFor(t, what, func() bool {
			for _, n := range want[0] {
				if sims[n].requests.Load() < from[n]+2 {
					return false
				}
			}
			return true
		})
	}
	// A margin for any request bridge 1 sent before it died to reach its
	// agent (the broker routed them before it published the will; the
	// agents read them within milliseconds), then the window observed.
	t.Logf("will of bridge 1 %v after its kill", time.Since(killed).Round(time.Millisecond))
	moreRequests("two more requests of bridge 0 to each of its nodes, a margin after the will")
	before := map[string]int64{}
	for n, s := range sims {
		before[n] = s.requests.Load()
	}
	moreRequests("two more requests of bridge 0 to each of its nodes while bridge 1 is dead")
	for _, n := range want[1] {
		if got := sims[n].requests.Load(); got != before[n] {
			t.Errorf("%s (shard 1) got %d requests after bridge 1 died: someone took it over", n, got-before[n])
		}
	}
	for _, n := range want[0] {
		if sims[n].requests.Load() <= before[n] {
			t.Errorf("%s (shard 0) got no requests from bridge 0 after bridge 1 died", n)
		}
	}
	if diff := cmp.Diff(want[0], parsePlugind(bridges[0].stdout.String()).nodes()); diff != "" {
		t.Errorf("bridge 0/2 after bridge 1 died charts (-want +got):\n%s", diff)
	}

	// Bridge 1 returns and samples its share again.
	t.Logf("observed %v after the kill", time.Since(killed).Round(time.Millisecond))
	back := time.Now()
	restarted := startBridge(1)
	charted(restarted, 1)
	t.Logf("restarted bridge 1 charted its shard %v after its start", time.Since(back).Round(time.Millisecond))
	if diff := cmp.Diff(want[1], parsePlugind(restarted.stdout.String()).nodes()); diff != "" {
		t.Errorf("restarted bridge 1/2 charts (-want +got):\n%s", diff)
	}
}
