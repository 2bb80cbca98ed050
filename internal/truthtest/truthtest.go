// Package truthtest lets a test judge a rate or a total against what its
// counter fixture actually served and when, instead of against the rate
// the fixture was configured with.
//
// A fixture that renders counters from the clock at the moment of a read
// (see proctest.ServePipe) and an agent that stamps mono_ns right after
// that read disagree by one process's scheduling delay: on a loaded
// 2-core machine several milliseconds, up to 1 % of a 1 s interval. A
// test that compares the bridge's rate with the configured rate must
// therefore tolerate that noise and still fails on a busy machine. Here
// the fixture records every value it serves with its CLOCK_BOOTTIME
// instant (Ledger) and the test records the agent's replies (Replies);
// the exact expectation for any interval is the served difference over
// the agent's own mono_ns span, which is what a correct bridge computes.
package truthtest

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Exact is the relative error allowed between a rate and the one that
// follows from the served values: rounding of the printed value, never the
// fixture's timing.
const Exact = 1e-4

// Served is one rendering of the counters a fixture served.
type Served struct {
	At     proctest.Instant
	Ifaces map[string]wire.Counters
}

// Ledger records what a fixture served. Safe for concurrent use.
type Ledger struct {
	mu     sync.Mutex
	served []Served
}

// Record notes that ifaces were served at at. The map must not change
// afterwards.
func (l *Ledger) Record(at proctest.Instant, ifaces map[string]wire.Counters) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.served = append(l.served, Served{At: at, Ifaces: ifaces})
}

// All returns everything served so far, in order.
func (l *Ledger) All() []Served {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Served(nil), l.served...)
}

// Last returns the last rendering served, false before the first.
func (l *Ledger) Last() (Served, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.served) == 0 {
		return Served{}, false
	}
	return l.served[len(l.served)-1], true
}

// Find returns the last rendering in which iface had exactly c's byte
// counters.
func (l *Ledger) Find(iface string, c wire.Counters) (Served, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := l.index(iface, c); i >= 0 {
		return l.served[i], true
	}
	return Served{}, false
}

// find returns the BootNS of the first rendering of c's byte counters and
// of the rendering after the last one (0 if none yet).
func (l *Ledger) find(iface string, c wire.Counters) (at, next int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := l.index(iface, c)
	if last < 0 {
		return 0, 0, false
	}
	first := last
	for first > 0 && same(l.served[first-1], iface, c) {
		first--
	}
	if last+1 < len(l.served) {
		next = l.served[last+1].At.BootNS
	}
	return l.served[first].At.BootNS, next, true
}

func (l *Ledger) index(iface string, c wire.Counters) int {
	for i := len(l.served) - 1; i >= 0; i-- {
		if same(l.served[i], iface, c) {
			return i
		}
	}
	return -1
}

func same(s Served, iface string, c wire.Counters) bool {
	got, ok := s.Ifaces[iface]
	return ok && got.RxBytes == c.RxBytes && got.TxBytes == c.TxBytes
}

// Reply is one reply of the agent as the test received it.
type Reply struct {
	wire.Reply
	Arrived time.Time
}

// Replies records every reply of one node. Safe for concurrent use; the
// zero value is empty (see Add).
type Replies struct {
	mu      sync.Mutex
	replies []Reply
	bad     []string
}

// RecordReplies subscribes to prefix/node/reply on b with a client of its
// own that subscribes again after every reconnect, so a broker restart
// does not end the record.
func RecordReplies(t testing.TB, b *brokertest.Broker, prefix, node string) *Replies {
	t.Helper()
	r := &Replies{}
	topic := wire.Topics{Prefix: prefix, Node: node}.Reply()
	b.Client(t, "truth-"+node, func(o *mqtt.ClientOptions) {
		o.SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe(topic, 0, func(_ mqtt.Client, m mqtt.Message) { r.add(m.Payload()) })
		})
	})
	return r
}

// Add appends a reply as if it had arrived now: for tests of the judges
// themselves.
func (r *Replies) Add(rep wire.Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, Reply{Reply: rep, Arrived: time.Now()})
}

func (r *Replies) add(p []byte) {
	var rep wire.Reply
	err := json.Unmarshal(p, &rep)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.bad = append(r.bad, fmt.Sprintf("%v: %.200s", err, p))
		return
	}
	r.replies = append(r.replies, Reply{Reply: rep, Arrived: time.Now()})
}

// All returns the replies so far, in arrival order.
func (r *Replies) All() []Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Reply(nil), r.replies...)
}

// Len is the number of replies so far.
func (r *Replies) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.replies)
}

// Bad returns the payloads that did not decode.
func (r *Replies) Bad() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// Span is an interval between two replies of the same agent run.
type Span struct{ From, To Reply }

// NS is the agent's own mono_ns span.
func (s Span) NS() int64 { return s.To.MonoNS - s.From.MonoNS }

// Delta is what counter c of iface moved over the span (false where iface
// is missing in either reply or the counter went down).
func (s Span) Delta(iface string, c func(wire.Counters) uint64) (uint64, bool) {
	a, ok1 := s.From.Ifaces[iface]
	b, ok2 := s.To.Ifaces[iface]
	if !ok1 || !ok2 || c(b) < c(a) {
		return 0, false
	}
	return c(b) - c(a), true
}

// PerSecond is Delta over NS, per second: the exact rate a bridge must
// report for the span.
func (s Span) PerSecond(iface string, c func(wire.Counters) uint64) (float64, bool) {
	d, ok := s.Delta(iface, c)
	if !ok || s.NS() <= 0 {
		return 0, false
	}
	return float64(d) * 1e9 / float64(s.NS()), true
}

// RxBytes and TxBytes select a counter for Span.Delta and PerSecond.
func RxBytes(c wire.Counters) uint64 { return c.RxBytes }

// TxBytes selects tx_bytes.
func TxBytes(c wire.Counters) uint64 { return c.TxBytes }

// sameBoot reports whether b follows a on one boot of the router, so that
// their mono_ns (CLOCK_BOOTTIME) share an origin and their counters a
// history: an agent restarted on the same boot continues both, and the
// bridge rates across the restart.
func sameBoot(a, b Reply) bool {
	return a.BootID == b.BootID && b.MonoNS > a.MonoNS
}

// Consecutive returns the spans between each reply and the one before it
// from the same boot, in arrival order.
func (r *Replies) Consecutive() []Span {
	all := r.All()
	var out []Span
	for i := 1; i < len(all); i++ {
		if sameBoot(all[i-1], all[i]) {
			out = append(out, Span{From: all[i-1], To: all[i]})
		}
	}
	return out
}

// FindSpan returns the span of two replies of one boot over which iface's
// rx_bytes moved by rxDelta and whose mono_ns span is spanUS
// microseconds, truncated, as a bridge prints it: the replies a round of
// the bridge was computed from. The two need not be consecutive (the
// bridge may have missed replies between them).
func (r *Replies) FindSpan(iface string, rxDelta uint64, spanUS int64) (Span, bool) {
	all := r.All()
	for j := len(all) - 1; j >= 0; j-- {
		b, ok := all[j].Ifaces[iface]
		if !ok || b.RxBytes < rxDelta {
			continue
		}
		for i := j - 1; i >= 0; i-- {
			if !sameBoot(all[i], all[j]) {
				continue
			}
			a, ok := all[i].Ifaces[iface]
			if !ok || b.RxBytes-a.RxBytes != rxDelta {
				continue
			}
			s := Span{From: all[i], To: all[j]}
			if d := s.NS()/1000 - spanUS; d >= -1 && d <= 1 {
				return s, true
			}
		}
	}
	return Span{}, false
}

// Within reports whether got is want to within rel, or to within one unit
// for integers printed without decimals.
func Within(got, want, rel float64) bool {
	return math.Abs(got-want) <= math.Max(rel*math.Abs(want), 1)
}

// CheckServed fails t for every reply whose counters of iface were never
// served by the fixture, and for every agent run whose reads cannot be
// placed between the serve of their counters and the next serve. The
// agent's mono_ns is CLOCK_BOOTTIME read once at its start plus Go's
// monotonic clock since, so it trails the kernel's clock by a constant of
// that run (microseconds, more if the agent was preempted right there):
// the check asks for one offset per run that puts every read after its
// serve and before the next one, which is causality, not timing. It
// returns how many replies it checked.
func CheckServed(t testing.TB, l *Ledger, r *Replies, iface string) int {
	t.Helper()
	type bounds struct{ lo, hi int64 } // the offsets the run allows
	runs := map[string]*bounds{}
	var order []string
	n := 0
	for _, rep := range r.All() {
		c, ok := rep.Ifaces[iface]
		if !ok {
			continue
		}
		n++
		at, next, ok := l.find(iface, c)
		if !ok {
			t.Errorf("reply seq %d: %s rx %d tx %d was never served", rep.Seq, iface, c.RxBytes, c.TxBytes)
			continue
		}
		key := rep.BootID + "/" + rep.RunID
		b := runs[key]
		if b == nil {
			b = &bounds{lo: math.MinInt64, hi: math.MaxInt64}
			runs[key] = b
			order = append(order, key)
		}
		b.lo = max(b.lo, at-rep.MonoNS)
		if next > 0 {
			b.hi = min(b.hi, next-rep.MonoNS)
		}
	}
	for _, key := range order {
		if b := runs[key]; b.lo > b.hi {
			t.Errorf("run %s: no clock offset puts every read between the serve of its counters and the next serve (needs ≥ %v and ≤ %v)", key, time.Duration(b.lo), time.Duration(b.hi))
		} else if b.hi < math.MaxInt64 {
			t.Logf("run %s: every read lies between its serve and the next with mono_ns shifted by %v to %v", key, time.Duration(b.lo), time.Duration(b.hi))
		}
	}
	for _, b := range r.Bad() {
		t.Errorf("reply does not decode: %s", b)
	}
	return n
}
