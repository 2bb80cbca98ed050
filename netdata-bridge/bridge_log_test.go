package bridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// logBridge is a bridge that is never run: its loop's message handling is
// driven directly, its log kept by a test hook.
func logBridge(t *testing.T) (*Bridge, *logtest.Hook) {
	t.Helper()
	l, hook := logtest.NewNullLogger()
	l.SetLevel(logrus.DebugLevel)
	b, err := New(Config{Interval: time.Second, ObsoleteAfter: time.Minute, MaxGap: 10 * time.Second, BridgeID: "test"}, logrus.NewEntry(l))
	if err != nil {
		t.Fatal(err)
	}
	b.sampler.Status("er-x", true)
	return b, hook
}

func replyMsg(node, id string, at time.Time, mono int64) message {
	return message{node: node, kind: wire.KindReply, valid: true, at: at,
		reply: &wire.Reply{ID: id, Node: node, MonoNS: mono, BootID: "b", Ifaces: map[string]wire.Counters{"eth0": {RxBytes: uint64(mono), Ifindex: 2}}}}
}

func entriesAt(hook *logtest.Hook, level logrus.Level) []*logrus.Entry {
	var out []*logrus.Entry
	for _, e := range hook.AllEntries() {
		if e.Level == level {
			out = append(out, e)
		}
	}
	return out
}

// TestReplyToAnotherBridgeNotWarned: with a second bridge on the broker
// (ifstat-bridge watch), every agent also answers its requests, and this
// bridge sees those replies. They are counted and said once at info
// level, never warned about; this bridge's own replies still match.
func TestReplyToAnotherBridgeNotWarned(t *testing.T) {
	t.Parallel()
	b, hook := logBridge(t)
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Second)
		b.sampler.Tick(at, 0)
		mono := int64(i+1) * 1e9
		// The other bridge's request of the same second, answered first.
		if err := b.process(replyMsg("er-x", "0badcafe-"+strconv.Itoa(i+1), at.Add(time.Millisecond), mono)); err != nil {
			t.Fatal(err)
		}
		if err := b.process(replyMsg("er-x", b.runID+"-"+strconv.Itoa(i+1), at.Add(2*time.Millisecond), mono+1e6)); err != nil {
			t.Fatal(err)
		}
		// An empty-id reply: someone asking with mosquitto_pub -n.
		if i == 10 {
			if err := b.process(replyMsg("er-x", "", at.Add(3*time.Millisecond), mono+2e6)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range hook.AllEntries() {
		if e.Level <= logrus.WarnLevel {
			t.Errorf("%s: %s %v", e.Level, e.Message, e.Data)
		}
	}
	if infos := entriesAt(hook, logrus.InfoLevel); len(infos) != 1 {
		t.Errorf("%d info lines, want one saying once that other replies are ignored: %v", len(infos), infos)
	}
	st := b.sampler.Stats()
	if st.Unknown != 31 || st.Matched != 30 {
		t.Errorf("stats %+v, want 31 unknown and 30 matched", st)
	}
	hook.Reset()
	b.logStats()
	debug := entriesAt(hook, logrus.DebugLevel)
	if len(debug) != 1 || debug[0].Data["unknown"] != uint64(31) || debug[0].Data["matched"] != uint64(30) {
		t.Errorf("stats line %v, want one debug line with unknown 31 and matched 30", hook.AllEntries())
	}
	if n := len(hook.AllEntries()); n != 1 {
		t.Errorf("logStats wrote %d lines, want only the debug stats line", n)
	}
}

// TestDropWarnings: what the user must fix is still warned about (a reply
// on another node's topic, two agents answering one request); a late
// reply is logged at debug, and only many of them in a stats period give
// a warning.
func TestDropWarnings(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	t.Run("forged and duplicate", func(t *testing.T) {
		b, hook := logBridge(t)
		b.sampler.Tick(t0, 0)
		id := b.runID + "-1"
		for _, m := range []message{
			replyMsg("er-x", id, t0.Add(time.Millisecond), 1e9),
			replyMsg("er-x", id, t0.Add(2*time.Millisecond), 1e9), // a second agent calling itself er-x
		} {
			if err := b.process(m); err != nil {
				t.Fatal(err)
			}
		}
		forged := replyMsg("er-x", id, t0.Add(3*time.Millisecond), 1e9)
		forged.reply.Node = "other"
		if err := b.process(forged); err != nil {
			t.Fatal(err)
		}
		var reasons []any
		for _, e := range entriesAt(hook, logrus.WarnLevel) {
			reasons = append(reasons, e.Data["reason"])
		}
		if len(reasons) != 2 || reasons[0] != string(DropDuplicate) || reasons[1] != string(DropForged) {
			t.Errorf("warnings for reasons %v, want %q and %q", reasons, DropDuplicate, DropForged)
		}
	})
	t.Run("late", func(t *testing.T) {
		b, hook := logBridge(t)
		// 60 requests, one late reply: debug only.
		late := func(n int) {
			for i := range 60 {
				at := t0.Add(time.Duration(i) * time.Second)
				b.sampler.Tick(at, 0)
				id := b.runID + "-" + strconv.FormatUint(b.sampler.seq, 10)
				arrive := at.Add(time.Millisecond)
				if i < n {
					arrive = at.Add(time.Second) // after the next tick was due
				}
				if err := b.process(replyMsg("er-x", id, arrive, int64(b.sampler.seq)*1e9)); err != nil {
					t.Fatal(err)
				}
			}
			b.logStats()
		}
		late(1)
		if w := entriesAt(hook, logrus.WarnLevel); len(w) != 0 {
			t.Errorf("one late reply in 60 gave warnings: %v", w[0].Message)
		}
		if d := entriesAt(hook, logrus.DebugLevel); len(d) != 2 || d[0].Data["reason"] != string(DropLate) {
			t.Errorf("want the late reply and the stats line at debug, got %d debug lines", len(d))
		}
		hook.Reset()
		late(6)
		if w := entriesAt(hook, logrus.WarnLevel); len(w) != 1 || w[0].Data["late"] != uint64(6) {
			t.Errorf("6 late replies in 60: %d warnings, want one with late=6", len(w))
		}
	})
}
