package truthtest

import (
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func reply(run string, seq uint64, mono int64, rx uint64) Reply {
	return Reply{Reply: wire.Reply{RunID: run, BootID: "b", Seq: seq, MonoNS: mono,
		Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, TxBytes: rx / 4}}}}
}

func TestFindSpan(t *testing.T) {
	r := &Replies{replies: []Reply{
		reply("r1", 1, 1_000_000_000, 1000),
		reply("r1", 2, 2_000_400_000, 2000),
		reply("r1", 3, 3_000_000_000, 3500),
		reply("r2", 1, 5_000_000_000, 10), // a new run: no span with r1
		reply("r2", 2, 6_000_000_999, 1010),
	}}
	for _, tc := range []struct {
		name     string
		delta    uint64
		spanUS   int64
		ok       bool
		from, to uint64
	}{
		{"consecutive", 1000, 1_000_400, true, 1, 2},
		{"truncated microseconds", 1000, 1_000_000, true, 1, 2},
		{"skips a missed reply", 2500, 2_000_000, true, 1, 3},
		{"span one microsecond off", 1500, 999_599, true, 2, 3},
		{"span off", 1500, 999_000, false, 0, 0},
		{"delta of no pair", 1234, 1_000_000, false, 0, 0},
		{"not across runs", 10, 2_000_000, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := r.FindSpan("eth0", tc.delta, tc.spanUS)
			if ok != tc.ok || ok && (s.From.Seq != tc.from || s.To.Seq != tc.to) {
				t.Errorf("FindSpan(%d, %d) = seq %d..%d %v, want %d..%d %v", tc.delta, tc.spanUS, s.From.Seq, s.To.Seq, ok, tc.from, tc.to, tc.ok)
			}
		})
	}
	spans := r.Consecutive()
	if len(spans) != 3 {
		t.Fatalf("%d consecutive spans, want 3 (none across runs)", len(spans))
	}
	if got, ok := spans[0].PerSecond("eth0", RxBytes); !ok || !Within(got, 1000/1.0004, 1e-9) {
		t.Errorf("PerSecond = %v %v, want %v", got, ok, 1000/1.0004)
	}
}

func TestCheckServed(t *testing.T) {
	var l Ledger
	l.Record(proctest.Instant{BootNS: 900}, map[string]wire.Counters{"eth0": {RxBytes: 1000, TxBytes: 250}})
	l.Record(proctest.Instant{BootNS: 1900}, map[string]wire.Counters{"eth0": {RxBytes: 2000, TxBytes: 500}})
	good := &Replies{replies: []Reply{reply("r", 1, 1000, 1000), reply("r", 2, 2000, 2000)}}
	if n := CheckServed(t, &l, good, "eth0"); n != 2 {
		t.Errorf("checked %d replies, want 2", n)
	}
	for name, bad := range map[string]*Replies{
		"never served":         {replies: []Reply{reply("r", 1, 1000, 1001)}},
		"stamped before serve": {replies: []Reply{reply("r", 1, 1800, 2000)}},
		"undecodable":          {bad: []string{"x"}},
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
