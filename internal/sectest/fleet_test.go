package sectest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// fleet is three auto bridges on one broker and what the test saw of them.
type fleet struct {
	t       *testing.T
	broker  *brokertest.Broker
	ids     []string
	bridges map[string]*proc

	mu      sync.Mutex
	configs map[string]string // retained Home Assistant configs by topic
}

func (f *fleet) start(id string) {
	f.bridges[id] = start(f.t, "bridge "+id, bins(f.t).bridge,
		bridgeEnv(f.broker.URL(), id, "IFSTAT_SHARD=auto", "IFSTAT_HA=on", "IFSTAT_LOG_LEVEL=info"), nil)
}

// marks are the lengths of the bridges' streams, from which charted reads.
func (f *fleet) marks() map[string]int {
	m := map[string]int{}
	for id, p := range f.bridges {
		m[id] = len(p.stdout.String())
	}
	return m
}

// charted returns, for every node rated in a bridge's stream since the
// marks, the bridges that rated it.
func (f *fleet) charted(since map[string]int) map[string][]string {
	by := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(f.bridges)) {
		p := f.bridges[id]
		if p.exited() {
			continue
		}
		s := p.stdout.String()[since[id]:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:] // from a line's start
		}
		for _, n := range parsePlugind(s).nodes() {
			by[n] = append(by[n], id)
		}
	}
	return by
}

// settled waits until, in a window of a few rounds, every node is charted
// by exactly one bridge and that bridge is its Owner among members, and
// returns each bridge's nodes.
func (f *fleet) settled(what string, nodes, members []string) map[string][]string {
	f.t.Helper()
	var last map[string][]string
	deadline := time.Now().Add(guard)
	for time.Now().Before(deadline) {
		since := f.marks()
		// Four rounds of 500 ms of every live bridge, observed in their
		// streams rather than timed: each must have written that many
		// rounds of every node it charts.
		time.Sleep(2 * time.Second)
		last = f.charted(since)
		ok := len(last) == len(nodes)
		for _, n := range nodes {
			if by := last[n]; len(by) != 1 || by[0] != bridge.Owner(n, members) {
				ok = false
			}
		}
		if ok {
			own := map[string][]string{}
			for n, by := range last {
				own[by[0]] = append(own[by[0]], n)
			}
			for id := range own {
				slices.Sort(own[id])
			}
			return own
		}
	}
	f.t.Fatalf("%s: after %v the nodes are charted by %v; want each by its owner among %v", what, guard, last, members)
	return nil
}

func (f *fleet) haConfigs() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.configs)
}

// TestFleetAutoShard runs three real bridges with IFSTAT_SHARD=auto on a
// real Mosquitto with 30 simulated agents whose counters grow while the
// test runs. Each agent is charted by exactly one bridge, its rendezvous
// owner; when one bridge is killed the other two take its agents over, and
// when it returns it gets the same agents back. After it all every agent's
// persisted byte total equals what its counters grew since the fleet first
// read them, to the byte, and Home Assistant's configs (unique_ids,
// availability) are the same bytes as before the handovers.
func TestFleetAutoShard(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto, three bridges and 30 simulated agents")
	t.Parallel()
	const agents = 30
	const base = 1_000_000
	f := &fleet{t: t, broker: startBroker(t), ids: []string{"fleet-0", "fleet-1", "fleet-2"},
		bridges: map[string]*proc{}, configs: map[string]string{}}

	// The counters grow by a step the test sets, so the truth of every
	// total is known exactly whatever the machine's speed: node i grows
	// (i+1)·step received and step sent.
	var step atomic.Uint64
	var nodes []string
	for i := range agents {
		node := fmt.Sprintf("cpe-%02d", i)
		nodes = append(nodes, node)
		startSim(t, f.broker, node, func(time.Duration) (uint64, uint64) {
			s := step.Load()
			return base + uint64(i+1)*s, base + s
		})
	}
	watcher := f.broker.Client(t, "fleet-watcher")
	tok := watcher.Subscribe(wire.DefaultHAPrefix+"/#", 0, func(_ mqtt.Client, m mqtt.Message) {
		if strings.HasSuffix(m.Topic(), "/config") && !strings.Contains(m.Topic(), "-bridge_") {
			f.mu.Lock()
			f.configs[m.Topic()] = string(m.Payload())
			f.mu.Unlock()
		}
	})
	if !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	for _, id := range f.ids {
		f.start(id)
	}
	began := time.Now()
	before := f.settled("three bridges started", nodes, f.ids)
	t.Logf("settled %v after the start: %v", time.Since(began).Round(time.Millisecond), before)
	for _, id := range f.ids {
		if len(before[id]) == 0 {
			t.Fatalf("%s owns no node of %v; the test would prove nothing", id, nodes)
		}
	}

	// Traffic flows from now on, through the handovers.
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	traffic.Go(func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				step.Add(1000)
			}
		}
	})
	stopTraffic := sync.OnceFunc(func() { close(stop); traffic.Wait() })
	defer stopTraffic()
	time.Sleep(2 * time.Second)
	haBefore := f.haConfigs()

	// fleet-1's host dies: SIGSTOP freezes it with its connection open,
	// as a power cut or a partition would (a killed process's socket is
	// closed by the kernel, and the broker sends its will at once). Its
	// beats stop, and the others take its agents over; the broker
	// publishes its will once the keepalive runs out (mosquitto 2.0:
	// seconds later).
	wills := brokertest.Subscribe(t, watcher, wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "fleet-1"}.Status(), 8)
	since := f.marks()
	killed := time.Now()
	// Our own child, by PID; proc.signal would wait for an exit.
	if err := syscall.Kill(f.bridges["fleet-1"].PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	f.bridges["fleet-0"].waitFor(t, "fleet-1's agents charted by the others", func() bool {
		by := f.charted(since)
		for _, n := range before["fleet-1"] {
			if len(by[n]) == 0 {
				return false
			}
		}
		return true
	})
	taken := time.Since(killed)
	for offline := false; !offline; {
		offline = string(brokertest.Receive(t, wills, guard).Payload()) == wire.StatusOffline
	}
	t.Logf("fleet-1 frozen: all its %d agents charted by the others %v after the freeze, its will %v after",
		len(before["fleet-1"]), taken.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	f.bridges["fleet-1"].signal(t, syscall.SIGKILL)
	delete(f.bridges, "fleet-1")
	two := []string{"fleet-0", "fleet-2"}
	during := f.settled("fleet-1 dead", nodes, two)
	for _, id := range two {
		// Rendezvous hashing moves only the dead bridge's agents.
		for _, n := range before[id] {
			if !slices.Contains(during[id], n) {
				t.Errorf("%s lost %s when fleet-1 died", id, n)
			}
		}
	}

	// fleet-1 returns (a new process, same id): it gets its agents back.
	f.start("fleet-1")
	back := time.Now()
	after := f.settled("fleet-1 back", nodes, f.ids)
	t.Logf("fleet-1 restarted: settled %v after its start", time.Since(back).Round(time.Millisecond))
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the agents were not redistributed as before the kill (-before +after):\n%s", diff)
	}

	// Stop the traffic; let every bridge read the final counters, then
	// end them all: each saves the copies of its agents.
	stopTraffic()
	final := step.Load()
	f.settled("final counters read", nodes, f.ids)
	haAfter := f.haConfigs()
	for _, id := range f.ids {
		f.bridges[id].signal(t, syscall.SIGTERM)
	}
	for _, id := range f.ids {
		f.bridges[id].waitFor(t, id+" to exit", f.bridges[id].exited)
	}

	reader := f.broker.Client(t, "fleet-reader")
	copies := brokertest.Subscribe(t, reader, wire.FleetStates(wire.DefaultPrefix).Filter(), agents*2)
	got := map[string]rate.Values{}
	for len(got) < agents {
		m := brokertest.Receive(t, copies, guard)
		s, err := state.DecodeNode(m.Payload())
		if err != nil {
			t.Fatalf("%s: %v", m.Topic(), err)
		}
		for n, ns := range s.Nodes {
			got[n] = ns.Ifaces["eth0"].Totals
		}
	}
	for i, n := range nodes {
		wantRx, wantTx := uint64(i+1)*final, final
		if g := got[n]; g[rate.RxBytes] != wantRx || g[rate.TxBytes] != wantTx {
			t.Errorf("%s: totals rx %d tx %d, want %d and %d (the counters' growth)", n, g[rate.RxBytes], g[rate.TxBytes], wantRx, wantTx)
		}
	}
	t.Logf("every total checked against %d steps of traffic (%d bytes sent per agent)", final/1000, final)

	// Home Assistant: the same configs, byte for byte, whichever bridge
	// published them last.
	if len(haBefore) < agents {
		t.Fatalf("only %d retained configs of routers before the kill", len(haBefore))
	}
	if diff := cmp.Diff(haBefore, haAfter); diff != "" {
		t.Errorf("Home Assistant configs changed across the handovers (-before +after):\n%s", diff)
	}
	uids := map[string]bool{}
	for _, p := range haAfter {
		_, rest, _ := strings.Cut(p, `"unique_id":"`)
		uid, _, _ := strings.Cut(rest, `"`)
		uids[uid] = true
		if strings.Contains(p, "/bridge/") {
			t.Errorf("a router's config names a bridge: %s", p)
		}
	}
	t.Logf("%d configs, %d unique_ids, unchanged", len(haAfter), len(uids))
}
