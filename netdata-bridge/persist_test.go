package bridge

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// TestSaveTurns: over StateInterval's worth of ticks every node's copy is
// saved exactly once, and no tick saves much more than its share, for
// intervals that do and do not divide StateInterval, and for the nodes of
// one static shard alone.
func TestSaveTurns(t *testing.T) {
	t.Parallel()
	nodes := make([]string, 5000)
	for i := range nodes {
		nodes[i] = "router-" + strconv.Itoa(i)
	}
	var shard0 []string
	for _, n := range nodes {
		if ShardOf(n, 3) == 0 {
			shard0 = append(shard0, n)
		}
	}
	tests := []struct {
		name          string
		interval, per time.Duration
		nodes         []string
		wantSlots     int
	}{
		{"1 s, 1 min", time.Second, time.Minute, nodes, 60},
		{"200 ms, 1 min", 200 * time.Millisecond, time.Minute, nodes, 300},
		{"7 s, 1 min", 7 * time.Second, time.Minute, nodes, 8},
		{"1 s, 1 s", time.Second, time.Second, nodes, 1},
		{"2 s, 1 s", 2 * time.Second, time.Second, nodes, 1},
		{"shard 0/3, 1 s, 1 min", time.Second, time.Minute, shard0, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &Bridge{cfg: Config{Interval: tt.interval, StateInterval: tt.per}}
			if got := b.saveSlots(); got != tt.wantSlots {
				t.Fatalf("saveSlots() = %d, want %d", got, tt.wantSlots)
			}
			saved := map[string]int{}
			most := 0
			at := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC).Add(3 * tt.interval)
			for i := range tt.wantSlots {
				in := b.saveTurn(at.Add(time.Duration(i) * tt.interval))
				n := 0
				for _, node := range tt.nodes {
					if in(node) {
						saved[node]++
						n++
					}
				}
				most = max(most, n)
			}
			for _, node := range tt.nodes {
				if saved[node] != 1 {
					t.Fatalf("%s saved %d times in %d ticks, want once", node, saved[node], tt.wantSlots)
				}
			}
			if share := len(tt.nodes) / tt.wantSlots; most > 2*share+10 {
				t.Errorf("a tick saves up to %d nodes, want about %d", most, share)
			}
		})
	}
}

// TestSnapshotOf: the snapshots of a partition of the nodes together are
// the whole snapshot.
func TestSnapshotOf(t *testing.T) {
	t.Parallel()
	s := newTestSampler()
	for i := range 20 {
		node := "n" + strconv.Itoa(i)
		s.Status(node, true)
		reqs, _ := s.Tick(t0, 0)
		for _, r := range reqs {
			if r.Node == node {
				if ns, why := s.Reply(node, reply(node, "run-"+strconv.FormatUint(s.seq, 10), 1e9, eth0(100, 50)), t0); ns == nil {
					t.Fatalf("reply of %s: %s", node, why)
				}
			}
		}
	}
	whole := s.Snapshot("b", t0)
	if len(whole.Nodes) != 20 {
		t.Fatalf("Snapshot has %d nodes, want 20", len(whole.Nodes))
	}
	var got []string
	for k := range 4 {
		part := s.SnapshotOf("b", t0, func(node string) bool { return SaveSlot(node, 4) == k })
		got = append(got, slices.Collect(maps.Keys(part.Nodes))...)
	}
	slices.Sort(got)
	if want := slices.Sorted(maps.Keys(whole.Nodes)); !slices.Equal(got, want) {
		t.Errorf("the parts hold %v, want each of %v once", got, want)
	}
}

// TestRestoreWaitsForEveryCopy: a starting bridge samples only once every
// retained state copy on the broker is in, however many: its marker on
// P/bridge/<id>/sync comes back behind them.
func TestRestoreWaitsForEveryCopy(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "runs a broker (mosquitto where installed) and a bridge")
	const nodes = 3000
	br := brokertest.Start(t)
	seed := br.Client(t, "seed")
	saved := time.Now().Add(-time.Minute)
	var last mqtt.Token
	for i := range nodes {
		node := "r" + strconv.Itoa(i)
		snap := &state.Snapshot{Bridge: "test", Saved: saved, Nodes: map[string]state.NodeState{
			node: {Saved: saved, Ifaces: map[string]rate.Checkpoint{"eth0": {}}},
		}}
		p, err := state.EncodeNode(snap, node)
		if err != nil {
			t.Fatal(err)
		}
		last = seed.Publish(wire.BridgeTopics{Prefix: "ifstat", BridgeID: "test"}.States().Node(node), 1, true, p)
	}
	if err := mqttx.Wait(last, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	marker := brokertest.Subscribe(t, seed, "ifstat/bridge/test/sync", 4)

	l, hook := logtest.NewNullLogger()
	cfg := Config{
		Common:   config.Common{Broker: br.URL(), TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"},
		Interval: time.Second, Netdata: config.AutoOff, ObsoleteAfter: time.Minute, MaxGap: 10 * time.Second, MaxBitsPerSec: 1e10,
		BridgeID: "test", HAPrefix: "homeassistant", HAInterval: 10 * time.Second, StateInterval: time.Minute,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg, logrus.NewEntry(l))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()

	select {
	case m := <-marker:
		if string(m.Payload()) != b.runID {
			t.Errorf("marker %q, want the run id %q", m.Payload(), b.runID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no marker on ifstat/bridge/test/sync")
	}
	for guard := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, e := range hook.AllEntries() {
			if e.Message == "restored totals" {
				if got := e.Data["nodes"]; got != nodes {
					t.Fatalf("restored %v nodes, want every one of the %d copies", got, nodes)
				}
				return
			}
		}
		if time.Now().After(guard) {
			t.Fatal("the bridge never restored its totals")
		}
	}
}

// keeper is an Output that keeps a value per node in the state copies.
type keeper struct{}

func (keeper) Emit(*NodeSample, time.Time) error   { return nil }
func (keeper) Keepalive(time.Time) error           { return nil }
func (keeper) CopyKey() string                     { return "kept" }
func (keeper) CopyOut(node string) json.RawMessage { return json.RawMessage(`"` + node + `"`) }

// TestLoadFileDropsCopyValues: what an output keeps in the copies says
// what the broker held when they were written; a copy from the state file
// may outlive a broker restarted without persistence, so its values are
// not passed back (CopyKeeper), and the rest of it is kept.
func TestLoadFileDropsCopyValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap := &state.Snapshot{Bridge: "b", Saved: t0, Seq: 1, Nodes: map[string]state.NodeState{
		"r1": {Saved: t0, Seq: 1, Ifaces: map[string]rate.Checkpoint{"eth0": {Totals: rate.Values{42}}},
			Extra: map[string]json.RawMessage{"kept": json.RawMessage(`"r1"`), "other": json.RawMessage(`1`)}},
	}}
	if err := state.Save(dir, snap); err != nil {
		t.Fatal(err)
	}
	b := &Bridge{cfg: Config{StateDir: dir}, outputs: []Output{keeper{}}, log: logrus.NewEntry(logrus.New())}
	got := b.loadFile()
	if got == nil {
		t.Fatal("loadFile: nil")
	}
	n := got.Nodes["r1"]
	if _, ok := n.Extra["kept"]; ok {
		t.Error("the output's value was read back from the file")
	}
	if string(n.Extra["other"]) != "1" || n.Ifaces["eth0"].Totals[rate.RxBytes] != 42 {
		t.Errorf("the rest of the copy changed: %+v", n)
	}
}
