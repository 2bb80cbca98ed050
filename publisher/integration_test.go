package publisher

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// guard bounds every wait in these tests; it is a failure guard, never a
// measurement: a healthy round trip takes milliseconds.
const guard = 20 * time.Second

// startAgent runs an agent for node against broker and tree until the test
// ends.
func startAgent(t *testing.T, b *brokertest.Broker, tree *netdevtest.Tree, node string, edit func(*Config)) *Agent {
	t.Helper()
	return startAgentLog(t, b, tree, node, edit, testLog(t))
}

// startAgentLog is startAgent logging to log.
func startAgentLog(t *testing.T, b *brokertest.Broker, tree *netdevtest.Tree, node string, edit func(*Config), log *logrus.Entry) *Agent {
	t.Helper()
	cfg := Config{
		Common: config.Common{Broker: b.URL(), TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"},
		Node:   node, ProcRoot: tree.ProcRoot(), SysRoot: tree.SysRoot(), MaxRate: 200,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg, log, Deps{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v", err)
			}
		case <-time.After(guard):
			t.Errorf("Run() did not return within %v of cancel", guard)
		}
	})
	return a
}

// waitOnline waits until a fresh subscriber sees the retained "online".
func waitOnline(t *testing.T, b *brokertest.Broker, node, clientID string) {
	t.Helper()
	c := b.Client(t, clientID)
	ch := brokertest.Subscribe(t, c, "ifstat/"+node+"/status", 10)
	deadline := time.After(guard)
	for {
		select {
		case m := <-ch:
			if string(m.Payload()) == wire.StatusOnline {
				c.Disconnect(0)
				return
			}
		case <-deadline:
			t.Fatalf("agent %s not online within %v", node, guard)
		}
	}
}

// requester sends requests and collects replies by id.
type requester struct {
	t       *testing.T
	c       mqtt.Client
	node    string
	replies <-chan mqtt.Message
}

func newRequester(t *testing.T, b *brokertest.Broker, node, id string, buf int) *requester {
	c := b.Client(t, id)
	return &requester{t: t, c: c, node: node, replies: brokertest.Subscribe(t, c, "ifstat/"+node+"/reply", buf)}
}

func (r *requester) send(payload []byte) {
	r.t.Helper()
	tok := r.c.Publish("ifstat/"+r.node+"/request", 0, false, payload)
	if !tok.WaitTimeout(guard) || tok.Error() != nil {
		r.t.Fatalf("publishing request: %v", tok.Error())
	}
}

func (r *requester) ask(id string) {
	r.t.Helper()
	r.send([]byte(`{"id":"` + id + `"}`))
}

// await returns the reply with id, skipping others.
func (r *requester) await(id string) wire.Reply {
	r.t.Helper()
	deadline := time.After(guard)
	for {
		select {
		case m := <-r.replies:
			rep, err := wire.DecodeReply(m.Payload())
			if err != nil {
				r.t.Fatalf("bad reply %q: %v", m.Payload(), err)
			}
			if rep.ID == id {
				return rep
			}
		case <-deadline:
			r.t.Fatalf("no reply to %q within %v", id, guard)
			return wire.Reply{}
		}
	}
}

// Test 1: 1,000 requests one after another, each answered with its id and
// exactly the counters the tree held when it was sent. The rate limit is
// raised out of the way: the pace is the round trip's, and the limit has
// tests of its own (TestTokenBucket, TestFloodAgainstBroker).
func TestRequestsAgainstBroker(t *testing.T) {
	proctest.SkipShort(t, "1,000 round trips through a real broker")
	t.Parallel()
	b := brokertest.Start(t)
	tree := netdevtest.NewTree(t)
	tree.SetBootID("6f1f4c52-3a3e-4d0e-9d1c-2b7a4f0e9a11")
	lo := wire.Counters{RxBytes: 5, Ifindex: 1}
	tree.Set("lo", lo)
	tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	tree.Set("wg0", wire.Counters{Ifindex: 7})
	tree.Write()
	a := startAgent(t, b, tree, "n1000", func(c *Config) { c.MaxRate = MaxRateLimit })
	waitOnline(t, b, "n1000", "status-watcher")
	r := newRequester(t, b, "n1000", "requester", 100)

	const n = 1000
	began := time.Now()
	var lastMono int64
	for i := range n {
		want := map[string]wire.Counters{
			"eth0": {RxBytes: uint64(i) * 1500, TxBytes: 1<<32 + uint64(i), RxPackets: uint64(i), TxPackets: uint64(2 * i), RxErrors: uint64(i / 100), Ifindex: 2, SpeedMbps: 1000},
			"wg0":  {RxBytes: uint64(i) * 7, TxDropped: uint64(i % 3), Ifindex: 7},
		}
		// Only net/dev changes: Set would rewrite the sysfs files too
		// (ifindex and speed, the same every time), four more renames
		// per request.
		served := maps.Clone(want)
		served["lo"] = lo
		tree.WriteRaw(string(netdevtest.Format(served)))
		id := "test1-" + strconv.Itoa(i)
		r.ask(id)
		got := r.await(id)
		if diff := cmp.Diff(want, got.Ifaces); diff != "" {
			t.Fatalf("reply %s counters (-want +got):\n%s", id, diff)
		}
		if got.Node != "n1000" || got.BootID != "6f1f4c52-3a3e-4d0e-9d1c-2b7a4f0e9a11" || got.RunID != a.RunID() || got.Seq != uint64(i+1) {
			t.Fatalf("reply %s = node %q boot %q run %q seq %d", id, got.Node, got.BootID, got.RunID, got.Seq)
		}
		if got.MonoNS <= lastMono {
			t.Fatalf("reply %s mono_ns %d not after %d", id, got.MonoNS, lastMono)
		}
		lastMono = got.MonoNS
	}
	t.Logf("%d round trips in %v", n, time.Since(began).Round(time.Millisecond))
	// The worker counts a reply once paho has written it, which may be
	// just after the requester received it.
	st := a.Stats()
	for deadline := time.Now().Add(guard); st.Replies < n && time.Now().Before(deadline); st = a.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Replies != n || st.Bad != 0 || st.Dropped != 0 {
		t.Errorf("Stats() = %+v, want %d replies and nothing dropped", st, n)
	}
}

// Test 2: the broker goes away until the agent has failed to reconnect at
// least once; the agent comes back online and answers without a restart.
func TestBrokerRestart(t *testing.T) {
	proctest.SkipShort(t, "stops and restarts a real broker")
	t.Parallel()
	b := brokertest.Start(t)
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1, Ifindex: 2})
	tree.Write()
	log := testLog(t)
	log.Logger.SetLevel(logrus.DebugLevel)
	msgs := &logCounter{}
	log.Logger.AddHook(msgs)
	startAgentLog(t, b, tree, "restart", nil, log) // reconnect attempts are logged at debug level
	waitOnline(t, b, "restart", "watch1")

	b.Stop()
	down := time.Now()
	// mqttx logs "reconnecting" before every attempt: a second one means
	// the first failed against the stopped broker.
	for msgs.count("reconnecting") < 2 {
		if time.Since(down) > guard {
			t.Fatalf("%d reconnect attempts within %v of the broker's stop, want 2", msgs.count("reconnecting"), guard)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("broker down %v: %d reconnect attempts", time.Since(down).Round(time.Millisecond), msgs.count("reconnecting"))
	b.Restart()
	back := time.Now()

	r := newRequester(t, b, "restart", "requester2", 100)
	deadline := time.Now().Add(guard)
	answered := false
	for i := 0; !answered; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no answer within %v of the broker's return", guard)
		}
		id := "restart-" + strconv.Itoa(i)
		r.ask(id)
		select {
		case m := <-r.replies:
			if rep, err := wire.DecodeReply(m.Payload()); err == nil && rep.Ifaces["eth0"].RxBytes == 1 {
				answered = true
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("first answer %v after the broker's return", time.Since(back).Round(time.Millisecond))
	// Persistence is off: the retained "online" seen now was republished.
	waitOnline(t, b, "restart", "watch2")
}

// Test 3: every hostile request is dropped or answered, and a good request
// after them all is answered.
func TestHostileRequestsAgainstBroker(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 42, Ifindex: 2})
	tree.Write()
	a := startAgent(t, b, tree, "hostile", nil)
	waitOnline(t, b, "hostile", "watch-h")
	r := newRequester(t, b, "hostile", "req-h", 100)
	wantBad := 0
	for _, tt := range hostileRequests {
		r.send(tt.payload)
		if tt.bad {
			wantBad++
		}
	}
	r.ask("good-1")
	if got := r.await("good-1"); got.Ifaces["eth0"].RxBytes != 42 {
		t.Errorf("good reply eth0 = %+v, want rx_bytes 42", got.Ifaces["eth0"])
	}
	// paho runs handlers concurrently: a bad payload may still be in its
	// handler when the good one is answered.
	st := a.Stats()
	for deadline := time.Now().Add(guard); st.Requests < uint64(len(hostileRequests)+1) && time.Now().Before(deadline); st = a.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Bad != uint64(wantBad) || st.Requests != uint64(len(hostileRequests)+1) {
		t.Errorf("Stats() = %+v, want %d bad of %d requests", st, wantBad, len(hostileRequests)+1)
	}
}

// Test 4: an interface that disappears is left out of replies and comes
// back when it reappears; the others are always there.
func TestInterfaceComesAndGoes(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1, Ifindex: 2})
	tree.Set("ppp0", wire.Counters{RxBytes: 100, Ifindex: 8})
	tree.Write()
	startAgent(t, b, tree, "ppp", func(c *Config) { c.Interfaces = []string{"eth*", "ppp0"} })
	waitOnline(t, b, "ppp", "watch-p")
	r := newRequester(t, b, "ppp", "req-p", 100)
	info := brokertest.Subscribe(t, r.c, "ifstat/ppp/info", 10)

	steps := []struct {
		name   string
		change func()
		want   map[string]wire.Counters
	}{
		{name: "both", change: func() {}, want: map[string]wire.Counters{
			"eth0": {RxBytes: 1, Ifindex: 2}, "ppp0": {RxBytes: 100, Ifindex: 8}}},
		{name: "ppp0 redialling", change: func() { tree.Remove("ppp0"); tree.Set("eth0", wire.Counters{RxBytes: 2, Ifindex: 2}) }, want: map[string]wire.Counters{
			"eth0": {RxBytes: 2, Ifindex: 2}}},
		{name: "ppp0 back as a new interface", change: func() { tree.Set("ppp0", wire.Counters{RxBytes: 3, Ifindex: 9}) }, want: map[string]wire.Counters{
			"eth0": {RxBytes: 2, Ifindex: 2}, "ppp0": {RxBytes: 3, Ifindex: 9}}},
	}
	for i, st := range steps {
		st.change()
		tree.Write()
		id := fmt.Sprintf("p-%d", i)
		r.ask(id)
		if diff := cmp.Diff(st.want, r.await(id).Ifaces); diff != "" {
			t.Errorf("%s: ifaces (-want +got):\n%s", st.name, diff)
		}
	}
	// The retained info followed: first both, then eth0 only, then both.
	var lists [][]string
	deadline := time.After(guard)
	for len(lists) < 3 {
		select {
		case m := <-info:
			var in wire.Info
			if err := json.Unmarshal(m.Payload(), &in); err != nil {
				t.Fatal(err)
			}
			lists = append(lists, in.Interfaces)
		case <-deadline:
			t.Fatalf("info updates %v, want 3", lists)
		}
	}
	if diff := cmp.Diff([][]string{{"eth0", "ppp0"}, {"eth0"}, {"eth0", "ppp0"}}, lists); diff != "" {
		t.Errorf("info interfaces (-want +got):\n%s", diff)
	}
}

// Test 6: a flood under one requester key does not starve a requester
// under another.
func TestFloodAgainstBroker(t *testing.T) {
	proctest.SkipShort(t, "floods a real broker")
	t.Parallel()
	b := brokertest.Start(t)
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1, Ifindex: 2})
	tree.Write()
	a := startAgent(t, b, tree, "flood", nil)
	waitOnline(t, b, "flood", "watch-f")
	good := newRequester(t, b, "flood", "req-good", 10_000)
	flooder := b.Client(t, "req-flood")

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var sent int
	wg.Go(func() {
		// ~10,000 requests/s in bursts of 10 per millisecond, until
		// the good requester is done.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for range 10 {
				flooder.Publish("ifstat/flood/request", 0, false, `{"id":"flood-`+strconv.Itoa(sent)+`"}`)
				sent++
			}
		}
	})
	// The good requester starts once the flood overflows its queue.
	for start := time.Now(); a.Stats().Dropped == 0; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > guard {
			cancel()
			wg.Wait()
			t.Fatalf("Stats() = %+v: the flood was never throttled within %v", a.Stats(), guard)
		}
	}
	var waits []time.Duration
	for i := range 3 {
		id := "bridge-" + strconv.Itoa(i)
		asked := time.Now()
		good.ask(id)
		good.await(id) // fails after guard: starved
		waits = append(waits, time.Since(asked).Round(time.Millisecond))
		time.Sleep(250 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	st := a.Stats()
	t.Logf("flood: sent %d, agent received %d, replied %d, dropped %d; the good requester's answers took %v", sent, st.Requests, st.Replies, st.Dropped, waits)
	if st.Dropped == 0 {
		t.Errorf("Stats() = %+v: the flood was never throttled", st)
	}
}

// logCounter is a logrus hook that counts entries by message.
type logCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (*logCounter) Levels() []logrus.Level { return logrus.AllLevels }

func (h *logCounter) Fire(e *logrus.Entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[e.Message]++
	return nil
}

func (h *logCounter) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[msg]
}
