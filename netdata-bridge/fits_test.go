package bridge

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// fitDriver is a driver that refreshes its counters every 0.9765 s at a
// constant 100 Mbit/s, seen by an agent that watches every 50 ms and is
// read every second.
const (
	fitPeriod = 976_500_000 // ns
	fitWatch  = 50_000_000  // ns
	fitBps    = 12_500_000  // bytes/s
)

// fitCounters returns what the agent reports for a read at read ns
// (MonoNS): the counters of the driver's latest refresh and the watch
// window that first saw it. phase shifts the driver, so interfaces differ.
func fitCounters(read, phase int64) wire.Counters {
	k := (read - phase) / fitPeriod
	refreshAt := phase + k*fitPeriod
	changed := min((refreshAt/fitWatch+1)*fitWatch, read)
	// 64-bit counters: the tracker can tell a rate across the restart
	// from a 32-bit counter that may have wrapped.
	rx := 1<<40 + uint64(refreshAt)*fitBps/1e9
	return wire.Counters{RxBytes: rx, TxBytes: 1 << 40, RxPackets: 1<<40 + rx/1000, TxPackets: 1 << 40, Ifindex: 2, ChangedNS: changed, UnchangedNS: changed - fitWatch}
}

// fitReply answers the sampler's pending request with the read of second
// sec (MonoNS (sec+1) s) of the given interfaces.
func fitReply(t *testing.T, s *Sampler, sec int, boot string, names ...string) *NodeSample {
	t.Helper()
	tick := t0.Add(time.Duration(sec) * time.Second)
	s.Tick(tick, 0)
	read := int64(sec+1) * 1e9
	ifaces := map[string]wire.Counters{}
	for i, name := range names {
		ifaces[name] = fitCounters(read, int64(i)*123_000_000)
	}
	ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.FormatUint(s.seq, 10), Node: "n", MonoNS: read, TimeNS: tick.UnixNano(),
		BootID: boot, Ifaces: ifaces}, tick)
	if ns == nil {
		t.Fatalf("second %d: dropped: %s", sec, why)
	}
	return ns
}

// TestSamplerRestoresRefreshFit: a bridge restarted mid-run (Snapshot →
// new Sampler → Restore) has a confident refresh fit at the very first
// reply of the same boot, narrows its window with it, and gets that
// first rate across the restart exact; without the checkpoint, or when
// the windows cannot belong to the reply, it starts the fit over.
func TestSamplerRestoresRefreshFit(t *testing.T) {
	t.Parallel()
	const before = 80 // replies before the restart: a full history
	tests := []struct {
		name string
		// restore passes the snapshot to the new sampler, edited by
		// damage when set.
		restore bool
		damage  func(json.RawMessage) json.RawMessage
		boot    string // of the first reply after the restart
		after   int    // its second; the last before the restart is before-1
		want    bool   // a confident fit at once
		// maxWidth bounds the first window refined by it; the longer
		// the gap, the more the period's error widens it.
		maxWidth int64
	}{
		{name: "restored after 1 s", restore: true, boot: "b1", after: before + 1, want: true, maxWidth: fitWatch / 4},
		{name: "restored", restore: true, boot: "b1", after: before + 3, want: true, maxWidth: fitWatch / 4},
		{name: "restored after 8 s", restore: true, boot: "b1", after: before + 8, want: true, maxWidth: fitWatch / 4},
		// 64 windows of 50 ms reach 5 min.
		{name: "restored after 2 min", restore: true, boot: "b1", after: before + 120, want: true, maxWidth: fitWatch * 2 / 3},
		{name: "no checkpoint", boot: "b1", after: before + 3},
		{name: "another boot", restore: true, boot: "b2", after: before + 3},
		{name: "beyond the fit's reach", restore: true, boot: "b1", after: before + 330},
		// The reply was read before the newest window: not this boot's
		// clock as the windows know it.
		{name: "windows in the future", restore: true, boot: "b1", after: before - 10},
		// (Not JSON at all cannot be: state.Decode refuses the file.)
		{name: "damaged: not an object", restore: true, boot: "b1", after: before + 3,
			damage: func(json.RawMessage) json.RawMessage { return json.RawMessage(`[1,2]`) }},
		{name: "damaged: wrong type", restore: true, boot: "b1", after: before + 3,
			damage: func(json.RawMessage) json.RawMessage { return json.RawMessage(`{"eth0":5}`) }},
		{name: "damaged: odd windows", restore: true, boot: "b1", after: before + 3,
			damage: func(json.RawMessage) json.RawMessage {
				return json.RawMessage(`{"eth0":{"boot_id":"b1","windows":[1000000000,50000000,926500000]}}`)
			}},
		// Pack writes no overlap; a negative gap is one, refused by
		// refresh.Unpack, and an empty window is refused by Restore.
		{name: "damaged: overlapping windows", restore: true, boot: "b1", after: before + 3, damage: editLastWindow(-2, -fitWatch)},
		{name: "damaged: empty window", restore: true, boot: "b1", after: before + 3, damage: editLastWindow(-1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSampler()
			s.Status("n", true)
			var last IfaceSample
			for i := range before {
				last = fitReply(t, s, i, "b1", "eth0").Ifaces[0]
			}
			if !last.Refresh.Confident {
				t.Fatalf("no confident fit before the restart: %+v", last.Refresh)
			}
			snap := s.Snapshot("br", t0.Add(before*time.Second))
			if tt.damage != nil {
				ns := snap.Nodes["n"]
				ns.Extra = withExtra(ns.Extra, fitKey, tt.damage(ns.Extra[fitKey]))
				snap.Nodes["n"] = ns
			}

			// Through the state file's encoding, as a restart reads it.
			b, err := state.Encode(snap)
			if err != nil {
				t.Fatal(err)
			}
			if snap, err = state.Decode(b); err != nil {
				t.Fatal(err)
			}
			s2 := newTestSampler()
			if tt.restore {
				s2.Restore(snap)
			}
			s2.Status("n", true)
			ns := fitReply(t, s2, tt.after, tt.boot, "eth0")
			is := ns.Ifaces[0]
			if is.Refresh.Confident != tt.want {
				t.Fatalf("first reply after the restart: Refresh = %+v, want Confident %v", is.Refresh, tt.want)
			}
			if !tt.want {
				return
			}
			if d := is.Refresh.PeriodNS - fitPeriod; d > fitPeriod/1000 || d < -fitPeriod/1000 {
				t.Errorf("restored period %d ns, %d ns off the truth", is.Refresh.PeriodNS, d)
			}
			c := ns.Reply.Ifaces["eth0"]
			lo, hi := s2.agents["n"].ifaces["eth0"].est.Refine(c.UnchangedNS, c.ChangedNS)
			if hi-lo > tt.maxWidth {
				t.Errorf("window (%d, %d] refined to (%d, %d], %d ns wide: the restored fit was not applied", c.UnchangedNS, c.ChangedNS, lo, hi, hi-lo)
			}
			// The first rate spans the restart, from the last change
			// before it to this one: exact only with both ends refined.
			// (Across minutes, the 32-bit error counters may have
			// wrapped: no rate.)
			if tt.after-before > 10 {
				return
			}
			if !is.Result.Rate {
				t.Fatalf("first reply after the restart: %s (%s), want a rate", is.Result.Status, is.Result.Reason)
			}
			got := float64(is.Result.Delta[rate.RxBytes]) * 1e9 / float64(is.Result.DtNS)
			e := got/fitBps - 1
			t.Logf("first rate after the restart: %.4f %% off the truth", e*100)
			if e > 1e-3 || e < -1e-3 {
				t.Errorf("first rate after the restart %.0f B/s, %.3f %% off the truth (a raw 50 ms window can be off by %.2f %%)",
					got, e*100, 100*fitWatch/2/float64(is.Result.DtNS))
			}
		})
	}
}

// editLastWindow returns a damage that sets eth0's packed value at
// len+i (-1 the last width, -2 the last gap) to v.
func editLastWindow(i int, v int64) func(json.RawMessage) json.RawMessage {
	return func(raw json.RawMessage) json.RawMessage {
		var all map[string]persistedFit
		if err := json.Unmarshal(raw, &all); err != nil {
			panic(err)
		}
		p := all["eth0"]
		p.Windows[len(p.Windows)+i] = v
		b, err := json.Marshal(all)
		if err != nil {
			panic(err)
		}
		return b
	}
}

// TestSnapshotFits: what the fit entry keeps of interfaces not seen again
// after a restart, and that a node without windows has none.
func TestSnapshotFits(t *testing.T) {
	t.Parallel()
	s := newTestSampler()
	s.Status("n", true)
	for i := range 20 {
		fitReply(t, s, i, "b1", "eth0", "wg0")
	}
	snap := s.Snapshot("br", t0)
	for _, tt := range []struct {
		name     string
		boot     string   // after the restart
		want     []string // interfaces with a fit entry in the next snapshot
		wantBoot string   // of eth0's entry
	}{
		// wg0 is gone for now; its fit may serve when it is back.
		{name: "same boot", boot: "b1", want: []string{"eth0", "wg0"}, wantBoot: "b1"},
		// wg0's windows belong to a boot that is over.
		{name: "rebooted", boot: "b2", want: []string{"eth0"}, wantBoot: "b2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s2 := newTestSampler()
			s2.Restore(snap)
			s2.Status("n", true)
			for i := range 3 {
				fitReply(t, s2, 100+i, tt.boot, "eth0")
			}
			var all map[string]persistedFit
			if err := json.Unmarshal(s2.Snapshot("br", t0).Nodes["n"].Extra[fitKey], &all); err != nil {
				t.Fatal(err)
			}
			if got := sortedKeys(all); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("fit entries %v, want %v", got, tt.want)
			}
			if got := all["eth0"].BootID; got != tt.wantBoot {
				t.Errorf("eth0's entry is of boot %q, want %q", got, tt.wantBoot)
			}
		})
	}

	// Counters never read twice give no window: no entry at all.
	s3 := newTestSampler()
	s3.Status("n", true)
	s3.Tick(t0, 0)
	s3.Reply("n", reply("n", "run-1", 1e9, eth0(1, 2)), t0)
	if raw, ok := s3.Snapshot("br", t0).Nodes["n"].Extra[fitKey]; ok {
		t.Errorf("fit entry %s for an interface without windows", raw)
	}
}

// TestFitStateSize: 8 interfaces with a full history (64 windows each) in
// one node's retained state message. Logs the sizes (go test -v).
func TestFitStateSize(t *testing.T) {
	t.Parallel()
	names := []string{"eth0", "eth1", "eth2", "eth0.100", "pppoe-wan", "switch0", "wg0", "br-lan"}
	s := newTestSampler()
	s.Status("n", true)
	for i := range 100 {
		fitReply(t, s, i, "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c9a01", names...)
	}
	snap := s.Snapshot("br", t0)
	ns := snap.Nodes["n"]
	var all map[string]persistedFit
	if err := json.Unmarshal(ns.Extra[fitKey], &all); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if got := len(all[name].Windows) / 2; got != 64 {
			t.Fatalf("%s: %d windows persisted, want the full history of 64", name, got)
		}
	}
	with, err := state.EncodeNode(snap, "n")
	if err != nil {
		t.Fatal(err)
	}
	ns.Extra = withExtra(ns.Extra, fitKey, nil)
	snap.Nodes["n"] = ns
	without, err := state.EncodeNode(snap, "n")
	if err != nil {
		t.Fatal(err)
	}
	fit := len(with) - len(without)
	t.Logf("node message: %d bytes, of which the fits %d (%d per interface); %d without them", len(with), fit, fit/len(names), len(without))
	// A bound that notices a format that grew (absolute MonoNS instead of
	// deltas is about twice this), not a measurement.
	if fit > 8*1500 {
		t.Errorf("the fits take %d bytes for 8 interfaces, over 1500 per interface", fit)
	}
	if len(with) > state.MaxNodeSize/50 {
		t.Errorf("node message of %d bytes, near the %d bytes state.DecodeNode accepts", len(with), state.MaxNodeSize)
	}
}

// TestFitsCapped: a node of wire.MaxIfaces interfaces stays well under
// state.MaxNodeSize with its fits; fewer interfaces share the budget.
func TestFitsCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ifaces, wantEntries, wantWindows int
	}{
		{8, 8, 64},
		{64, 64, 64},
		{100, 100, 40},
		{wire.MaxIfaces, maxFitWindows / minFitWindows, minFitWindows},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.ifaces), func(t *testing.T) {
			t.Parallel()
			s := newTestSampler()
			s.Status("n", true)
			names := make([]string, tt.ifaces)
			for i := range names {
				names[i] = fmt.Sprintf("veth%04d", i)
			}
			for i := range 70 {
				fitReply(t, s, i, "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c9a01", names...)
			}
			snap := s.Snapshot("br", t0)
			var all map[string]persistedFit
			if err := json.Unmarshal(snap.Nodes["n"].Extra[fitKey], &all); err != nil {
				t.Fatal(err)
			}
			if len(all) != tt.wantEntries {
				t.Errorf("%d interfaces with a fit, want %d", len(all), tt.wantEntries)
			}
			for name, p := range all {
				if got := len(p.Windows) / 2; got != tt.wantWindows {
					t.Fatalf("%s: %d windows, want %d", name, got, tt.wantWindows)
				}
				if _, err := refresh.Unpack(p.Windows, refresh.DefaultHistory); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			b, err := state.EncodeNode(snap, "n")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := state.DecodeNode(b); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d interfaces: node message %d bytes, fits %d bytes", tt.ifaces, len(b), len(snap.Nodes["n"].Extra[fitKey]))
			if len(b) > state.MaxNodeSize/2 {
				t.Errorf("node message %d bytes, want headroom under state.MaxNodeSize %d", len(b), state.MaxNodeSize)
			}
		})
	}
}
