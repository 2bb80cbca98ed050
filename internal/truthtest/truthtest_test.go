package truthtest

import (
	"fmt"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func reply(run string, seq uint64, mono int64, rx uint64) Reply {
	boot := "b1"
	if run == "r3" {
		boot = "b2"
	}
	return Reply{Reply: wire.Reply{RunID: run, BootID: boot, Seq: seq, MonoNS: mono,
		Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, TxBytes: rx / 4}}}}
}

func TestFindSpan(t *testing.T) {
	r := &Replies{replies: []Reply{
		reply("r1", 1, 1_000_000_000, 1000),
		reply("r1", 2, 2_000_400_000, 2000),
		reply("r1", 3, 3_000_000_000, 3500),
		reply("r2", 1, 4_000_000_000, 4700), // the agent restarted on the same boot
		reply("r3", 1, 500_000_000, 10),     // a reboot: a new boot id, the clock from zero
		reply("r3", 2, 1_500_000_999, 1010),
	}}
	for _, tc := range []struct {
		name     string
		delta    uint64
		spanUS   int64
		ok       bool
		from, to string // run#seq
	}{
		{"consecutive", 1000, 1_000_400, true, "r1#1", "r1#2"},
		{"truncated microseconds", 1000, 1_000_000, true, "r3#1", "r3#2"},
		{"skips a missed reply", 2500, 2_000_000, true, "r1#1", "r1#3"},
		{"span one microsecond off", 1500, 999_599, true, "r1#2", "r1#3"},
		{"span off", 1500, 999_000, false, "", ""},
		{"delta of no pair", 1234, 1_000_000, false, "", ""},
		{"across an agent restart", 1200, 1_000_000, true, "r1#3", "r2#1"},
		{"not across boots", 10, 500_000, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := r.FindSpan("eth0", tc.delta, tc.spanUS)
			id := func(r Reply) string {
				if !ok {
					return ""
				}
				return fmt.Sprintf("%s#%d", r.RunID, r.Seq)
			}
			if ok != tc.ok || id(s.From) != tc.from || id(s.To) != tc.to {
				t.Errorf("FindSpan(%d, %d) = %s..%s %v, want %s..%s %v", tc.delta, tc.spanUS, id(s.From), id(s.To), ok, tc.from, tc.to, tc.ok)
			}
		})
	}
	spans := r.Consecutive()
	if len(spans) != 4 {
		t.Fatalf("%d consecutive spans, want 4 (none across boots)", len(spans))
	}
	if got, ok := spans[0].PerSecond("eth0", RxBytes); !ok || !Within(got, 1000/1.0004, 1e-9) {
		t.Errorf("PerSecond = %v %v, want %v", got, ok, 1000/1.0004)
	}
}

func TestCheckServed(t *testing.T) {
	var l Ledger
	l.Record(proctest.Instant{BootNS: 900}, map[string]wire.Counters{"eth0": {RxBytes: 1000, TxBytes: 250}})
	l.Record(proctest.Instant{BootNS: 1900}, map[string]wire.Counters{"eth0": {RxBytes: 2000, TxBytes: 500}})
	l.Record(proctest.Instant{BootNS: 2900}, map[string]wire.Counters{"eth0": {RxBytes: 3000, TxBytes: 750}})
	for name, good := range map[string]*Replies{
		"after each serve": {replies: []Reply{reply("r", 1, 1000, 1000), reply("r", 2, 2000, 2000)}},
		// The agent's clock trails the kernel's by a constant of its run.
		"a run's clock 150 ns behind": {replies: []Reply{reply("r", 1, 750, 1000), reply("r", 2, 1750, 2000), reply("r", 3, 2800, 3000)}},
	} {
		if n := CheckServed(t, &l, good, "eth0"); n != len(good.replies) {
			t.Errorf("%s: checked %d replies, want %d", name, n, len(good.replies))
		}
	}
	for name, bad := range map[string]*Replies{
		"never served": {replies: []Reply{reply("r", 1, 1000, 1001)}},
		// Stamped 10 ns before the second serve, and yet the next read,
		// 110 ns later, saw the third, served 1000 ns after the second:
		// no one offset of the run's clock fits both.
		"read before its serve": {replies: []Reply{reply("r", 1, 1890, 1000), reply("r", 2, 2000, 3000)}},
		"undecodable":           {bad: []string{"x"}},
	} {
		rec := &recorder{}
		CheckServed(rec, &l, bad, "eth0")
		if rec.errors == 0 {
			t.Errorf("%s: no error", name)
		}
	}
	if !Within(10_000_000, 10_000_999, Exact) || Within(10_000_000, 10_001_001, Exact) {
		t.Error("Within: 0.01 % of 10,000,000 is 1000")
	}
}

// recorder counts errors instead of failing.
type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.errors++ }
