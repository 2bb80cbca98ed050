package haout

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// fleet is n agents, each with the awkward interfaces.
func fleet(n int) []*agent {
	as := make([]*agent, n)
	for i := range as {
		as[i] = newAgent(fmt.Sprintf("r%04d", i), nil)
	}
	return as
}

// nodeOf returns the node of an ifstat state topic or a router's config
// topic, "" for the bridge's own configs.
func nodeOf(m msg) string {
	if strings.HasSuffix(m.Topic, "/state") {
		return strings.Split(m.Topic, "/")[1]
	}
	if i := strings.Index(m.Topic, "/ifstat_"); i >= 0 {
		return strings.SplitN(m.Topic[i+len("/ifstat_"):], "/", 2)[0]
	}
	return ""
}

// TestConfigPacing: a fleet first seen in one tick gets its configs over
// the following Ticks, at most the budget per Tick, each router's configs
// before its first state, all of them in the end; Birth (with Connected
// and a changed router on top) requeues every router exactly once.
func TestConfigPacing(t *testing.T) {
	t.Parallel()
	perRouter := len(routerConfigsOf(t, "r0000"))
	tests := []struct {
		name    string
		routers int
		step    time.Duration // between Ticks
		sample  time.Duration // Options.SampleInterval
		budget  int           // configs per Tick
		bridges int           // Output.Fleet, when not 0
	}{
		{"one router", 1, time.Second, 0, ConfigsPerSecond, 0},
		{"fleet, 1 s ticks", 150, time.Second, 0, ConfigsPerSecond, 0},
		{"fleet, 250 ms ticks", 150, 250 * time.Millisecond, 250 * time.Millisecond, ConfigsPerSecond / 4, 0},
		{"fleet, 5 s ticks: one second's worth", 150, 5 * time.Second, 0, ConfigsPerSecond, 0},
		{"fleet, budget below one router", 3, 10 * time.Millisecond, 10 * time.Millisecond, ConfigsPerSecond / 100, 0},
		{"3 bridges share the rate", 150, time.Second, 0, ConfigsPerSecond / 3, 3},
		{"a bridge alone in its fleet", 150, time.Second, 0, ConfigsPerSecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			o.SampleInterval = tt.sample
			rec := &recorder{}
			out, err := New(o, rec, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			out.birthDelay = 0
			if tt.bridges > 0 {
				out.Fleet(tt.bridges)
			}
			as := fleet(tt.routers)
			at := func(k int) time.Time { return t0.Add(time.Duration(k) * tt.step) }
			emitAll := func(k int) {
				for _, a := range as {
					ns := a.reply(k, int64(k)*int64(tt.step)+1, allAt(awkward, k))
					ns.Tick = at(k)
					if err := out.Emit(ns, at(k)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Every router first seen in tick 0: nothing goes out in Emit.
			out.Tick(at(0), at(0))
			emitAll(0)
			if got := rec.take(); len(got) != 0 {
				t.Fatalf("Emit published %d messages, want them queued", len(got))
			}

			want := tt.routers * perRouter
			limit := max(tt.budget, perRouter)
			ticks := (want+tt.budget-1)/tt.budget + 1
			configs := map[string]int{} // by node, before its first state
			stated := map[string]bool{}
			seen := map[string]int{} // by config topic
			last := ticks + int(20*time.Second/tt.step)
			for k := 1; k <= last; k++ {
				out.Tick(at(k), at(k))
				sent := 0
				for _, m := range rec.take() {
					node := nodeOf(m)
					if strings.HasSuffix(m.Topic, "/state") {
						// (2) configs precede the router's first state.
						if !stated[node] && configs[node] != perRouter {
							t.Fatalf("tick %d: first state of %s after %d of its %d configs", k, node, configs[node], perRouter)
						}
						stated[node] = true
						continue
					}
					sent++
					seen[m.Topic]++
					if !stated[node] {
						configs[node]++
					}
				}
				// (1) at most the budget, or one router when the budget is
				// smaller than a router.
				if sent > limit {
					t.Errorf("tick %d: %d configs, budget %d", k, sent, limit)
				}
				if k <= ticks-2 && sent < min(want, limit-perRouter+1) {
					t.Errorf("tick %d: only %d configs with %d queued", k, sent, want)
				}
				want -= sent
				emitAll(k)
			}
			// (3) every config of every router, exactly once.
			if len(seen) != tt.routers*perRouter {
				t.Errorf("published %d config topics, want %d", len(seen), tt.routers*perRouter)
			}
			for topic, n := range seen {
				if n != 1 {
					t.Errorf("%s published %d times", topic, n)
				}
			}
			if len(stated) != tt.routers {
				t.Errorf("%d routers got states, want %d", len(stated), tt.routers)
			}

			// (4) Birth requeues every router once, even with Connected
			// and a changed router asking again meanwhile; the newest set
			// wins, and each last state follows its router's configs.
			out.Birth(at(1000))
			out.Connected(at(1000))
			as[0].info = erxInfo
			ns := as[0].reply(1000, 1000*int64(tt.step)+1, allAt(awkward, 1000))
			ns.Tick = at(1000)
			out.Emit(ns, at(1000))
			bridgeCfg := map[string]bool{}
			for _, m := range bridgeConfigs(t) {
				bridgeCfg[m.Topic] = true
			}
			for _, m := range rec.take() {
				if !bridgeCfg[m.Topic] {
					t.Errorf("Birth published %s at once, want it queued", m.Topic)
				}
			}
			seen = map[string]int{}
			var got []msg
			for k := 1001; k <= 1000+ticks; k++ {
				out.Tick(at(last), at(last+k-1000)) // no window is due
				sent := 0
				for _, m := range rec.take() {
					got = append(got, m)
					if !strings.HasSuffix(m.Topic, "/state") {
						seen[m.Topic]++
						sent++
					}
				}
				if sent > limit {
					t.Errorf("after Birth, tick %d: %d configs, budget %d", k, sent, limit)
				}
			}
			out.waitBirths()
			got = append(got, rec.take()...)
			for topic, n := range seen {
				if n != 1 {
					t.Errorf("after Birth: %s published %d times", topic, n)
				}
			}
			if len(seen) != tt.routers*perRouter {
				t.Errorf("after Birth: %d config topics, want %d", len(seen), tt.routers*perRouter)
			}
			first := routerConfigsOf(t, "r0000")[0].Topic
			for _, m := range got {
				if m.Topic == first && !strings.Contains(m.Payload, `"ER-X"`) {
					t.Errorf("r0000 after Birth: older config set published: %s", m.Payload)
				}
			}
			done := map[string]int{}
			states := map[string]int{}
			for _, m := range got {
				node := nodeOf(m)
				if strings.HasSuffix(m.Topic, "/state") {
					states[node]++
					if done[node] != perRouter {
						t.Errorf("Birth state of %s after %d of its configs", node, done[node])
					}
					continue
				}
				done[node]++
			}
			for _, a := range as {
				if states[a.node] != 1 {
					t.Errorf("Birth: %d states for %s, want 1", states[a.node], a.node)
				}
			}
		})
	}
}

// routerConfigsOf returns the configs of a router with the awkward
// interfaces and no device info.
func routerConfigsOf(t *testing.T, node string) []discovery.Message {
	t.Helper()
	ms, err := discovery.Configs(testOptions(), discovery.Router{Node: node, Ifaces: awkward})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// BenchmarkFirstSight is the bridge's first tick with 2,000 new routers:
// every Emit, then the Tick that follows. Its configs are reported per
// op, to show that they are the budget's, not the fleet's (the states are
// those of the routers configured in that Tick).
func BenchmarkFirstSight(b *testing.B) {
	const routers = 2000
	as := fleet(routers)
	samples := make([]*bridge.NodeSample, routers)
	for i, a := range as {
		samples[i] = a.reply(0, 1, map[string]rate.Values{"eth0": {1}, "wan": {2}})
	}
	pub := &counter{}
	b.ReportAllocs()
	for b.Loop() {
		out, err := New(testOptions(), pub, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, ns := range samples {
			out.Emit(ns, tick(0))
		}
		out.Tick(tick(1), tick(1))
	}
	b.ReportMetric(float64(pub.configs)/float64(b.N), "configs/op")
	b.ReportMetric(float64(pub.states)/float64(b.N), "states/op")
}

// counter counts configs (retained) and states.
type counter struct{ configs, states int }

func (c *counter) Publish(_ string, _ byte, retained bool, _ []byte) {
	if retained {
		c.configs++
	} else {
		c.states++
	}
}

// TestFleetStatesWhileQueued: a fleet bridge that takes routers over
// publishes their states from the first window, while their configs (the
// same bytes the previous bridge left retained) still wait in the queue:
// their entities must not expire during a handover.
func TestFleetStatesWhileQueued(t *testing.T) {
	t.Parallel()
	for _, fleetMode := range []bool{false, true} {
		o := testOptions()
		o.Fleet = fleetMode
		o.Interval = time.Second
		rec := &recorder{}
		out, err := New(o, rec, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		as := fleet(200) // more configs than one Tick's budget
		states := map[string]bool{}
		for k := range 5 { // fewer Ticks than the queue needs
			at := t0.Add(time.Duration(k) * time.Second)
			out.Tick(at, at)
			for _, m := range rec.take() {
				if strings.HasSuffix(m.Topic, "/state") {
					states[nodeOf(m)] = true
				}
			}
			for _, a := range as {
				ns := a.reply(k, int64(k)*1e9+1, allAt(awkward, k))
				ns.Tick = at
				out.Emit(ns, at)
			}
		}
		last := as[len(as)-1].node // queued behind the others
		switch {
		case fleetMode && len(states) != len(as):
			t.Errorf("fleet: %d of %d routers got states", len(states), len(as))
		case !fleetMode && states[last]:
			t.Errorf("single bridge: %s got a state before its configs", last)
		}
	}
}
