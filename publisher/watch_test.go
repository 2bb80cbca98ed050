package publisher

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func TestWatcher(t *testing.T) {
	t.Parallel()
	type read struct {
		mono   int64
		ifaces map[string]wire.Counters
	}
	c := func(rx uint64) wire.Counters { return wire.Counters{RxBytes: rx, RxPackets: rx / 100, Ifindex: 2} }
	one := func(rx uint64) map[string]wire.Counters { return map[string]wire.Counters{"eth0": c(rx)} }
	tests := []struct {
		name  string
		reads []read
		want  map[string]wire.Counters // annotation of the last read
	}{
		{"first read: no change known", []read{{100, one(1000)}}, one(1000)},
		{"unchanged since the start", []read{{100, one(1000)}, {150, one(1000)}, {200, one(1000)}}, one(1000)},
		{
			name:  "a change between 150 and 200",
			reads: []read{{100, one(1000)}, {150, one(1000)}, {200, one(2000)}, {250, one(2000)}},
			want:  map[string]wire.Counters{"eth0": {RxBytes: 2000, RxPackets: 20, Ifindex: 2, ChangedNS: 200, UnchangedNS: 150}},
		},
		{
			name:  "the latest of two changes",
			reads: []read{{100, one(1000)}, {150, one(2000)}, {200, one(2000)}, {250, one(3000)}, {300, one(3000)}},
			want:  map[string]wire.Counters{"eth0": {RxBytes: 3000, RxPackets: 30, Ifindex: 2, ChangedNS: 250, UnchangedNS: 200}},
		},
		{
			name:  "an interface that vanished starts over",
			reads: []read{{100, one(1000)}, {150, one(2000)}, {200, map[string]wire.Counters{}}, {250, one(3000)}},
			want:  one(3000),
		},
		{
			name:  "a read no later than the last is ignored",
			reads: []read{{100, one(1000)}, {150, one(2000)}, {150, one(3000)}},
			want:  map[string]wire.Counters{"eth0": {RxBytes: 3000, RxPackets: 30, Ifindex: 2, ChangedNS: 150, UnchangedNS: 100}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWatcher(false)
			var last map[string]wire.Counters
			for _, r := range tt.reads {
				last = map[string]wire.Counters{}
				for k, v := range r.ifaces {
					last[k] = v
				}
				w.observe(r.mono, r.mono, last)
			}
			w.annotate(tt.reads[len(tt.reads)-1].mono, last)
			if d := cmp.Diff(tt.want, last); d != "" {
				t.Errorf("annotated read mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestWatcherGone: a read without an interface whose counters the
// adaptive watch had classed drops its state, and says so.
func TestWatcherGone(t *testing.T) {
	t.Parallel()
	w := newWatcher(true)
	mono := int64(time.Second)
	for i := range liveRun + 1 {
		w.observe(mono, mono, map[string]wire.Counters{"eth0": {RxBytes: uint64(1000 * (i + 1)), Ifindex: 2}, "eth1": {Ifindex: 3}})
		mono += int64(MinWatch)
	}
	if got := w.news(); len(got) != 1 || got[0].iface != "eth0" || got[0].what != "counters current at every read" {
		t.Fatalf("news after %d changing reads: %+v", liveRun+1, got)
	}
	w.observe(mono, mono, map[string]wire.Counters{"eth1": {Ifindex: 3}})
	got := w.news()
	if len(got) != 1 || got[0].iface != "eth0" || got[0].what != "interface missing from a read: its refresh clock forgotten" {
		t.Errorf("news after a read without eth0: %+v; want eth0's state dropped and said (eth1, never classed, silent)", got)
	}
	if _, ok := w.ifaces["eth0"]; ok {
		t.Error("eth0's state kept after a read without it")
	}
	if got := w.news(); len(got) != 0 {
		t.Errorf("news drained twice: %+v", got)
	}
}

// TestAgentWatch: watch reads between requests set changed_ns and
// unchanged_ns of the reply; the info lists the watch capability.
func TestAgentWatch(t *testing.T) {
	t.Parallel()
	fr := &fakeReader{ifaces: map[string]wire.Counters{"eth0": {RxBytes: 1, Ifindex: 2}}}
	cfg := validConfig()
	cfg.Watch = WatchMode{Every: 50 * time.Millisecond}
	a, fc := newTestAgent(t, fr, cfg) // New reads once: mono 1 s
	var info wire.Info
	if err := json.Unmarshal(a.info, &info); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"reply", "ifindex", "speed", "watch"}, info.Capabilities); d != "" {
		t.Errorf("capabilities (-want +got):\n%s", d)
	}
	a.watchOnce() // 2 s: first sight
	a.watchOnce() // 3 s: unchanged
	fr.set(map[string]wire.Counters{"eth0": {RxBytes: 500, Ifindex: 2}})
	a.watchOnce() // 4 s: changed
	a.watchOnce() // 5 s
	a.reply("x")  // 6 s
	got, err := wire.DecodeReply([]byte(fc.next(t).Payload))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]wire.Counters{"eth0": {RxBytes: 500, Ifindex: 2, ChangedNS: 4e9, UnchangedNS: 3e9}}
	if got.MonoNS != 6e9 {
		t.Errorf("mono_ns = %d, want 6e9", got.MonoNS)
	}
	if d := cmp.Diff(want, got.Ifaces); d != "" {
		t.Errorf("reply ifaces (-want +got):\n%s", d)
	}
}

// TestWatcherLateProbes: a probe counts as late when its read began more
// than lateBy after it was planned; reads planned further ahead (a Go
// timer's wait) are not probes.
func TestWatcherLateProbes(t *testing.T) {
	t.Parallel()
	const ms = int64(time.Millisecond)
	w := newWatcher(true)
	for _, r := range []struct {
		start, mono, next int64
		late              uint64
	}{
		{100 * ms, 100 * ms, 101 * ms, 0},      // plans a probe at 101 ms
		{101 * ms, 101 * ms, 102 * ms, 0},      // on time
		{103 * ms, 103 * ms, 104 * ms, 0},      // 1 ms late: not more than lateBy
		{105*ms + 1, 105 * ms, 150 * ms, 1},    // late by more than lateBy; plans no probe
		{200 * ms, 200 * ms, 201 * ms, 1},      // after a longer wait: not a probe
		{203 * ms, 203 * ms, 203*ms + ms/2, 2}, // 2 ms late
	} {
		w.noteProbe(r.start, r.mono, r.next)
		if w.lateProbes != r.late {
			t.Fatalf("after the read begun at %d ns: %d late probes, want %d", r.start, w.lateProbes, r.late)
		}
	}
}

// TestWatcherWakes: a change that a read sees on an interface the watch's
// plan left idle wakes the watch, where the plan is more than a burst step
// away; a change on an interface the plan already covers does not.
func TestWatcherWakes(t *testing.T) {
	t.Parallel()
	const s = int64(time.Second)
	periodic := func() *autoState {
		a := newAutoState(nil)
		for k := range int64(6) {
			a.fit.Observe(k*s+100*s, k*s+100*s+s/1000) // a 1 s clock, 1 ms windows
		}
		if !a.fit.Estimate().Confident {
			t.Fatal("the test's fit is not confident")
		}
		a.class = classPeriodic
		return a
	}
	tests := []struct {
		name    string
		class   ifaceClass
		first   int64 // the interface's latest change before now
		planned int64 // the watch's next read, from now
		want    bool
	}{
		{"periodic, idle for 10 s, watch asleep for 3 s", classPeriodic, -10 * s, 3 * s, true},
		{"periodic, changed 1 s ago: probed anyway", classPeriodic, -s, 3 * s, false},
		{"periodic, idle, the watch reads within a step", classPeriodic, -10 * s, int64(MinWatch), false},
		{"unknown, never changed", classUnknown, 0, 3 * s, true},
		{"unknown, changed 2 s ago: bursting anyway", classUnknown, -2 * s, 3 * s, false},
		{"unknown, idle for 6 s", classUnknown, -6 * s, 3 * s, true},
		{"live: not probed", classLive, -10 * s, 3 * s, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const now = 200 * s
			st := &watchState{auto: newAutoState(nil)}
			if tt.class == classPeriodic {
				st.auto = periodic()
			}
			st.auto.class = tt.class
			if tt.first != 0 {
				st.first = now + tt.first
			}
			w := newWatcher(true)
			w.noteProbe(now-s, now-s, now+tt.planned)
			if got := w.wakes(st, now); got != tt.want {
				t.Errorf("wakes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAgentWatchWakes: a request whose read sees traffic on an interface
// idle since the watch planned its next read (3 s of idle sleep away)
// tells the watch loop to read now; the watch's own next read clears it.
func TestAgentWatchWakes(t *testing.T) {
	t.Parallel()
	fr := &fakeReader{ifaces: map[string]wire.Counters{"eth0": {RxBytes: 1, Ifindex: 2}}}
	cfg := validConfig()
	cfg.Watch = WatchMode{Auto: true}
	a, fc := newTestAgent(t, fr, cfg) // New reads once: mono 1 s
	woken := func() bool {
		select {
		case <-a.watchWake:
			return true
		default:
			return false
		}
	}
	for range 8 {
		a.watchOnce() // the start's burst, then idle: plans 3 s ahead
	}
	a.reply("still")
	fc.next(t)
	if woken() {
		t.Fatal("a request that saw no change woke the watch")
	}
	fr.set(map[string]wire.Counters{"eth0": {RxBytes: 500, Ifindex: 2}})
	a.reply("traffic")
	fc.next(t)
	if !woken() {
		t.Fatal("a request that saw an idle interface change did not wake the watch")
	}
	fr.set(map[string]wire.Counters{"eth0": {RxBytes: 900, Ifindex: 2}})
	a.reply("more")
	fc.next(t)
	if woken() {
		t.Error("a second change, the watch not yet run, woke it again")
	}
	a.watchOnce()
	fr.set(map[string]wire.Counters{"eth0": {RxBytes: 1300, Ifindex: 2}})
	a.reply("after the watch read")
	fc.next(t)
	if woken() {
		t.Error("a change on an interface the watch had just read woke it")
	}
}

// TestSameCounters: sameCounters is ==, field by field, for every field
// of wire.Counters (a field added to the struct and not to sameCounters
// fails here).
func TestSameCounters(t *testing.T) {
	t.Parallel()
	base := wire.Counters{RxBytes: 1, TxBytes: 2, RxPackets: 3, TxPackets: 4, RxErrors: 5, TxErrors: 6,
		RxDropped: 7, TxDropped: 8, Ifindex: 9, SpeedMbps: 10, ChangedNS: 11, UnchangedNS: 12, RefreshNS: 13}
	if !sameCounters(&base, &base) {
		t.Fatal("a value differs from itself")
	}
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		c := base
		f := reflect.ValueOf(&c).Elem().Field(i)
		switch f.Kind() {
		case reflect.Uint64:
			f.SetUint(f.Uint() + 1)
		case reflect.Int64:
			f.SetInt(f.Int() + 1)
		default:
			t.Fatalf("field %s of kind %s: sameCounters does not know it", v.Type().Field(i).Name, f.Kind())
		}
		if sameCounters(&base, &c) || sameCounters(&c, &base) || c == base {
			t.Errorf("a change of %s is not seen", v.Type().Field(i).Name)
		}
	}
}
