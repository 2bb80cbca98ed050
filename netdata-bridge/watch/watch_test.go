package watch

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

func TestBytes(t *testing.T) {
	t.Parallel()
	checkFormat(t, "Bytes", Bytes, totalW, []formatCase[uint64]{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.00 KiB"}, {1536, "1.50 KiB"}, {10234, "9.99 KiB"}, {10235, "10.0 KiB"},
		{5 << 20, "5.00 MiB"}, {1023 << 20, "1023 MiB"}, {1<<30 - 1<<19, "1.00 GiB"}, {3 << 30, "3.00 GiB"},
		{200 << 30, "200 GiB"}, {1<<64 - 1, "16.0 EiB"},
	})
}

func TestRate(t *testing.T) {
	t.Parallel()
	checkFormat(t, "Rate", Rate, rateW, []formatCase[float64]{
		{0, "0 bit/s"}, {999, "999 bit/s"}, {999.5, "1.00 kbit/s"}, {1000, "1.00 kbit/s"}, {9994, "9.99 kbit/s"},
		{9995, "10.0 kbit/s"}, {99_949, "99.9 kbit/s"}, {99_950, "100 kbit/s"}, {999_499, "999 kbit/s"},
		{999_500, "1.00 Mbit/s"}, {177_975_473, "178 Mbit/s"}, {17_797_547, "17.8 Mbit/s"}, {1e9, "1.00 Gbit/s"},
		{999.6e9, "1.00 Tbit/s"}, {-5, "0 bit/s"},
	})
}

type formatCase[T any] struct {
	in   T
	want string
}

// checkFormat wants f(in) for each case, never wider than its column.
func checkFormat[T any](t *testing.T, name string, f func(T) string, width int, cases []formatCase[T]) {
	t.Helper()
	for _, tt := range cases {
		got := f(tt.in)
		if got != tt.want {
			t.Errorf("%s(%v) = %q, want %q", name, tt.in, got, tt.want)
		}
		if len(got) > width {
			t.Errorf("%s(%v) is %d columns, more than %d", name, tt.in, len(got), width)
		}
	}
}

func TestAgeCount(t *testing.T) {
	t.Parallel()
	ages := []struct {
		d    time.Duration
		want string
	}{{-time.Second, "0s"}, {999 * time.Millisecond, "0s"}, {99 * time.Second, "99s"}, {100 * time.Second, "1m"},
		{99 * time.Minute, "99m"}, {100 * time.Minute, "1h"}, {99 * time.Hour, "99h"}, {100 * time.Hour, "4d"}}
	for _, tt := range ages {
		if got := Age(tt.d); got != tt.want {
			t.Errorf("Age(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	counts := []struct {
		n    uint64
		want string
	}{{0, "0"}, {9999, "9999"}, {10_000, "10k"}, {999_999, "999k"}, {1_000_000, "1M"}, {1 << 40, "1099G"}}
	for _, tt := range counts {
		if got := Count(tt.n); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	c := func(vs ...float64) []cell {
		var cs []cell
		for _, v := range vs {
			if v < 0 {
				cs = append(cs, cell{})
			} else {
				cs = append(cs, cell{v: v, ok: true})
			}
		}
		return cs
	}
	tests := []struct {
		cells []cell
		n     int
		want  string
	}{
		{c(0, 1, 2, 3, 4, 5, 6, 7), 8, "▁▂▃▄▅▆▇█"},
		{c(0, 0), 8, "▁▁"},
		{c(7, -1, -1, 0, 7), 8, "█··▁█"},
		{c(-1, -1), 8, "··"},
		{c(100, 1, 2, 3, 4, 5, 6, 7), 7, "▂▃▄▅▆▇█"}, // only the shown rounds set the scale
		{nil, 8, ""},
	}
	for _, tt := range tests {
		if got := sparkline(tt.cells, tt.n); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.cells, tt.n, got, tt.want)
		}
	}
}

// agents is a fixed list of online agents, as the bridge's Sampler gives it.
type agents []string

func (a *agents) Online() []string { s := slices.Clone(*a); slices.Sort(s); return s }

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// round is the tick of round i.
func round(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }

// reply is an answered round of node with interfaces in order.
func reply(node string, i int, ifaces ...bridge.IfaceSample) *bridge.NodeSample {
	return &bridge.NodeSample{Node: node, Tick: round(i), Ifaces: ifaces}
}

// noReply is an unanswered round: the sampler lists every known interface
// as absent.
func noReply(node string, i int, names ...string) *bridge.NodeSample {
	ns := &bridge.NodeSample{Node: node, Tick: round(i), Gap: true}
	for _, n := range names {
		ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{Name: n, Absent: true})
	}
	return ns
}

// iface is an interface's sample: rx and tx in bits/s over one second
// when st is OK, totals in bytes.
func iface(name string, st rate.Status, rxBits, txBits, rxTotal, txTotal uint64) bridge.IfaceSample {
	res := rate.Result{Status: st, Rate: st == rate.OK}
	if st == rate.OK {
		res.DtNS = 1e9
		res.Delta[rate.RxBytes], res.Delta[rate.TxBytes] = rxBits/8, txBits/8
	}
	res.Total[rate.RxBytes], res.Total[rate.TxBytes] = rxTotal, txTotal
	return bridge.IfaceSample{Name: name, Result: res}
}

func absent(name string) bridge.IfaceSample { return bridge.IfaceSample{Name: name, Absent: true} }

// step is one thing the bridge does to a view: a sample, or a round's
// tick with the agents online at that moment.
type step struct {
	ns     *bridge.NodeSample
	tick   int
	online []string
}

func emit(ns *bridge.NodeSample) step { return step{ns: ns} }
func tick(i int, online ...string) step {
	return step{tick: i, online: online}
}

// okRounds is n answered rounds of er-x from round `from`, eth0 at
// rx 178 Mbit/s, then twice, three times that …, tx 17.8 Mbit/s.
func okRounds(from, n int) []step {
	var s []step
	for i := from; i < from+n; i++ {
		s = append(s, tick(i, "er-x"),
			emit(reply("er-x", i, iface("eth0", rate.OK, 177_975_473*uint64(i-from+1), 17_797_547, 3<<30+uint64(i)<<20, 200<<20))))
	}
	return s
}

func concat(parts ...[]step) []step { return slices.Concat(parts...) }

const (
	columns = "IFACE               RX          TX RX total TX total GAPS RX trend STATUS"
	heading = "10:00:%02d  agents: %d online, %d offline  replies %d  gaps %d"
)

// TestRender plays the bridge's calls on a view and compares every line of
// the 80-column frame.
func TestRender(t *testing.T) {
	t.Parallel()
	first := []step{tick(0, "er-x"), emit(reply("er-x", 0, iface("eth0", rate.First, 0, 0, 3<<30, 200<<20)))}
	tests := []struct {
		name  string
		steps []step
		now   time.Time
		want  []string
	}{{
		name:  "baseline only",
		steps: first,
		now:   round(0).Add(300 * time.Millisecond),
		want: []string{
			"10:00:00  agents: 1 online, 0 offline  replies 1  gaps 0",
			"",
			columns,
			"er-x: online, answering, last reply 10:00:00",
			" eth0                              3.00 GiB  200 MiB    0          first",
		},
	}, {
		name:  "rates scaled like totals",
		steps: concat(first, okRounds(1, 3)),
		now:   round(3).Add(300 * time.Millisecond),
		want: []string{
			"10:00:03  agents: 1 online, 0 offline  replies 4  gaps 0",
			"",
			columns,
			"er-x: online, answering, last reply 10:00:03",
			" eth0       534 Mbit/s 17.8 Mbit/s 3.00 GiB  200 MiB    0 ▃▆█      ok",
		},
	}, {
		// The agent stops answering while its status stays online (a
		// hung or SIGKILLed agent before the broker's keepalive
		// notices): blank rates, the silence's length, gaps and holes.
		name: "no reply",
		steps: concat(first, okRounds(1, 2),
			[]step{tick(3, "er-x"), emit(noReply("er-x", 3, "eth0")), tick(4, "er-x"), emit(noReply("er-x", 4, "eth0")), tick(5, "er-x")}),
		now: round(5).Add(300 * time.Millisecond),
		want: []string{
			"10:00:05  agents: 1 online, 0 offline  replies 3  gaps 2",
			"",
			columns,
			"er-x: online, no reply for 3s, last reply 10:00:02",
			" eth0                              3.00 GiB  200 MiB    2 ▅█··     no reply 3s",
		},
	}, {
		// SIGTERM: the agent's retained status says offline; the
		// sampler stops asking it, so no sample comes at all. The next
		// round's tick shows it offline.
		name:  "offline by status",
		steps: concat(first, okRounds(1, 2), []step{tick(3), tick(4)}),
		now:   round(4).Add(300 * time.Millisecond),
		want: []string{
			"10:00:04  agents: 0 online, 1 offline  replies 3  gaps 2",
			"",
			columns,
			"er-x: offline (agent status), last reply 10:00:02",
			" eth0                              3.00 GiB  200 MiB    2 ▅█··     offline",
		},
	}, {
		name:  "online again, before its first reply",
		steps: concat(first, okRounds(1, 2), []step{tick(3), tick(4), tick(5, "er-x")}),
		now:   round(5).Add(300 * time.Millisecond),
		want: []string{
			"10:00:05  agents: 1 online, 0 offline  replies 3  gaps 2",
			"",
			columns,
			"er-x: online again, waiting for its reply, last reply 10:00:02",
			" eth0                              3.00 GiB  200 MiB    2 ▅█··     waiting",
		},
	}, {
		// After the restart the outage stays counted and drawn; the
		// first interval after it spans the outage (Gap: longer than
		// IFSTAT_MAX_GAP) and is a gap too.
		name: "restarted",
		steps: concat(first, okRounds(1, 2), []step{tick(3), tick(4), tick(5, "er-x"),
			emit(reply("er-x", 5, iface("eth0", rate.Gap, 0, 0, 4<<30, 300<<20)))}, okRounds(6, 2)),
		now: round(7).Add(300 * time.Millisecond),
		want: []string{
			"10:00:07  agents: 1 online, 0 offline  replies 6  gaps 3",
			"",
			columns,
			"er-x: online, answering, last reply 10:00:07",
			" eth0       356 Mbit/s 17.8 Mbit/s 3.01 GiB  200 MiB    3 ▅█···▅█  ok",
		},
	}, {
		// Rounds without a rate for one interface of an answering agent:
		// absent (wg0 down), stale, reset. Long names are cut.
		name: "interfaces without a rate",
		steps: concat(first, []step{
			tick(1, "er-x", "very-long-router-name-that-is-cut-somewhere-before-the-end-of-the-line-really"),
			emit(reply("er-x", 1, iface("eth0", rate.OK, 8_000, 800, 1<<20, 1<<10), iface("enp0s31f6.100", rate.First, 0, 0, 0, 0), iface("wg0", rate.First, 0, 0, 5, 5))),
			emit(reply("very-long-router-name-that-is-cut-somewhere-before-the-end-of-the-line-really", 1, iface("ppp0", rate.First, 0, 0, 1, 1))),
			tick(2, "er-x", "very-long-router-name-that-is-cut-somewhere-before-the-end-of-the-line-really"),
			emit(reply("er-x", 2, iface("eth0", rate.Stale, 0, 0, 1<<20, 1<<10), iface("enp0s31f6.100", rate.OK, 999_999_999, 1, 0, 0), absent("wg0"))),
			emit(reply("very-long-router-name-that-is-cut-somewhere-before-the-end-of-the-line-really", 2, iface("ppp0", rate.Reset, 0, 0, 1, 1))),
		}),
		now: round(2).Add(300 * time.Millisecond),
		want: []string{
			"10:00:02  agents: 2 online, 0 offline  replies 5  gaps 3",
			"",
			columns,
			"er-x: online, answering, last reply 10:00:02",
			" enp0s31f… 1.00 Gbit/s     0 bit/s      0 B      0 B    0 █        ok",
			" eth0                              1.00 MiB 1.00 KiB    1 █·       stale",
			" wg0                                    5 B      5 B    1 ·        absent",
			"very-long-router-name-that-is-cut-somewhere-before-the-end-of-the-line-really:…",
			" ppp0                                   1 B      1 B    1 ·        reset",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var on agents
			v := New(&bytes.Buffer{}, Options{})
			v.SetAgents(&on)
			for _, s := range tt.steps {
				if s.ns != nil {
					v.record(s.ns)
					continue
				}
				on = s.online
				if err := v.Tick(round(s.tick), round(s.tick)); err != nil {
					t.Fatal(err)
				}
			}
			got := v.Render(tt.now, 80)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("frame (-want +got):\n%s\ngot:\n%s", d, strings.Join(got, "\n"))
			}
			for _, l := range got {
				if n := utf8.RuneCountInString(l); n > 79 {
					t.Errorf("line of %d columns at 80: %q", n, l)
				}
			}
		})
	}
}

// TestRenderWidth: every line fits the terminal whatever it holds, and a
// wider terminal gets a longer sparkline.
func TestRenderWidth(t *testing.T) {
	t.Parallel()
	v := New(&bytes.Buffer{}, Options{Header: []string{strings.Repeat("h", 200)}})
	for i := range 200 {
		v.record(reply("a-router-with-a-long-name", i, iface("a-long-interface-name", rate.OK, 1e12, 1e12, 1<<62, 1<<62)))
		v.record(noReply("silent", i))
	}
	for _, cols := range []int{80, 100, 200} {
		lines := v.Render(round(1000), cols)
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > cols-1 {
				t.Errorf("%d columns: line of %d: %q", cols, n, l)
			}
		}
		row := lines[len(lines)-2]
		if spark := strings.Count(row, "█"); spark != min(cols-1-fixedWidth, history) {
			t.Errorf("%d columns: sparkline of %d rounds, want %d: %q", cols, spark, min(cols-1-fixedWidth, history), row)
		}
	}
	if got, want := v.Render(round(1000), 80)[len(v.Render(round(1000), 80))-1], "silent: online, no reply for 16m"; got != want {
		t.Errorf("agent that never answered: %q, want %q", got, want)
	}
}

// TestDraw: frames are throttled, cleared in a terminal, and cut to the
// terminal's height with a note of what is left out.
func TestDraw(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	v := New(&buf, Options{Header: []string{"demo header"}, Clear: true, Every: time.Second, Size: func() (int, int) { return 80, 8 }})
	var ifaces []bridge.IfaceSample
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ifaces = append(ifaces, iface(n, rate.First, 0, 0, 0, 0))
	}
	if err := v.Emit(reply("er-x", 0, ifaces...), round(0)); err != nil {
		t.Fatal(err)
	}
	if err := v.Keepalive(round(0).Add(999 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	want := "\x1b[H\x1b[2J" + strings.Join([]string{
		"demo header",
		"10:00:00  agents: 1 online, 0 offline  replies 1  gaps 0",
		"",
		columns,
		"er-x: online, answering, last reply 10:00:00",
		" a                                      0 B      0 B    0          first",
		"… 4 more lines: a taller terminal shows them",
	}, "\n") + "\n"
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Errorf("frame (-want +got):\n%s", d)
	}
	buf.Reset()
	if err := v.Keepalive(round(1)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "10:00:01") {
		t.Errorf("no frame a second later:\n%s", buf.String())
	}
}
