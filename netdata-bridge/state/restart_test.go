package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// TestPropertyRestartThroughFile runs the bridge's restart path end to end
// without the network: trackers of a node's interfaces are checkpointed,
// encoded, saved, loaded and restored at random points while the agent
// keeps counting (its replies in the downtime are lost to both sides). The
// totals must equal those of trackers that were never restarted and were
// fed the same replies, and never decrease.
func TestPropertyRestartThroughFile(t *testing.T) {
	t.Parallel()
	cfg := rate.Config{MaxGapNS: 3_000_000_000}
	ifaces := []string{"eth0", "pppoe-wan"}
	var restarts int
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 99))
		wide := seed%2 == 0
		dir := t.TempDir()
		boot, mono := 1, int64(100_000_000_000)
		vals := make([]rate.Values, len(ifaces))
		whole := make([]*rate.Tracker, len(ifaces))
		parts := make([]*rate.Tracker, len(ifaces))
		prev := make([]rate.Values, len(ifaces))
		for i := range ifaces {
			whole[i], parts[i] = rate.New(cfg), rate.New(cfg)
			for c := range rate.N {
				vals[i][c] = rng.Uint64N(1 << 31)
			}
		}
		var seq uint64
		for step := range 300 {
			// The agent: up to 100 Mbit/s per interface, now and then a
			// stale read or a reboot.
			dt := 900_000_000 + rng.Int64N(200_000_000)
			stale := false
			switch k := rng.IntN(100); {
			case k < 2:
				boot++
				mono = 20_000_000_000
				vals = make([]rate.Values, len(ifaces))
			case k < 8:
				mono += dt
				stale = true
			default:
				mono += dt
			}
			for i := range vals {
				if stale {
					break
				}
				pkts := rng.Uint64N(uint64(dt)/120_000 + 1)
				for d := range 2 {
					add(&vals[i], rate.Counter(d), pkts*(60+rng.Uint64N(1441)), wide)
					add(&vals[i], rate.Counter(d+2), pkts, wide)
				}
			}
			if rng.IntN(25) == 0 && step > 0 {
				seq++
				restarts++
				restartThroughFile(t, dir, seq, ifaces, parts, cfg)
				continue // this reply is lost to both
			}
			for i := range ifaces {
				s := rate.Sample{BootID: fmt.Sprint("boot-", boot), MonoNS: mono, Ifindex: 4, SpeedMbps: 100, Values: vals[i]}
				w, p := whole[i].Update(s), parts[i].Update(s)
				if w.Total != p.Total {
					t.Fatalf("seed %d step %d %s: Update(%+v): restarted totals %v, uninterrupted %v (%+v vs %+v)",
						seed, step, ifaces[i], s, p.Total, w.Total, p, w)
				}
				for c := range rate.N {
					if p.Total[c] < prev[i][c] {
						t.Fatalf("seed %d step %d %s: %v total went down from %d to %d", seed, step, ifaces[i], rate.Counter(c), prev[i][c], p.Total[c])
					}
				}
				prev[i] = p.Total
			}
		}
	}
	t.Logf("%d restarts through Encode, Save, Load and Restore: totals equal", restarts)
}

func add(v *rate.Values, c rate.Counter, d uint64, wide bool) {
	v[c] += d
	if !wide {
		v[c] &= 1<<32 - 1
	}
}

// restartThroughFile replaces each tracker by a new one restored from a
// snapshot that went through the file.
func restartThroughFile(t *testing.T, dir string, seq uint64, ifaces []string, trs []*rate.Tracker, cfg rate.Config) {
	t.Helper()
	saved := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second)
	n := NodeState{Saved: saved, Seq: seq, Ifaces: map[string]rate.Checkpoint{}}
	for i, name := range ifaces {
		n.Ifaces[name] = trs[i].Snapshot()
	}
	if err := Save(dir, &Snapshot{Bridge: "b", Saved: saved, Seq: seq, Nodes: map[string]NodeState{"er-x": n}}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	s, err := Load(dir)
	if err != nil || s == nil {
		t.Fatalf("Load = %v, %v", s, err)
	}
	for i, name := range ifaces {
		trs[i] = rate.New(cfg)
		trs[i].Restore(s.Nodes["er-x"].Ifaces[name])
	}
}
