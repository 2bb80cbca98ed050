package netdevtest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

const sec = int64(time.Second)

// fakeClock is a driver clock the test sets.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() int64 { return c.ns.Load() }

// testDriver: origin at 10 s; eth0 refreshes at 0.25 s + k·1 s with a
// constant 100 Mbit/s received and a scripted send; wlan0 takes the
// driver's 0.9765 s period at phase 0.
func testDriver(t *testing.T) (*Driver, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	clk.ns.Store(10 * sec)
	d, err := NewDriver(DriverOptions{
		Dir:    t.TempDir(),
		Period: 976500 * time.Microsecond,
		BootID: "b00t",
		Clock:  clk.now,
		Log:    true,
		Ifaces: []DriverIface{
			{
				Name: "eth0", Ifindex: 2, SpeedMbps: 1000,
				Base:        wire.Counters{RxBytes: 1000, RxPackets: 1, RxErrors: 7, TxDropped: 3},
				Rx:          Constant(12_500_000),
				Tx:          Rate{{At: 2 * time.Second, BytesPerSec: 1000}, {At: 3 * time.Second, BytesPerSec: 3}},
				PacketBytes: 1500,
				Period:      time.Second, Phase: 250 * time.Millisecond,
			},
			{Name: "wlan0", Ifindex: 3, Rx: Constant(1_000_000)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, clk
}

func TestDriverCounters(t *testing.T) {
	t.Parallel()
	d, _ := testDriver(t)
	if got := d.Origin(); got != 10*sec {
		t.Fatalf("Origin() = %d, want %d", got, 10*sec)
	}
	ms := int64(time.Millisecond)
	eth0 := func(rx, tx uint64) wire.Counters {
		return wire.Counters{RxBytes: 1000 + rx, RxPackets: 1 + rx/1500, TxBytes: tx, TxPackets: tx / 1500, RxErrors: 7, TxDropped: 3}
	}
	tests := []struct {
		name        string
		iface       string
		at          int64
		wantRefresh int64
		wantTrue    wire.Counters
		wantVisible wire.Counters
	}{
		{"before origin", "eth0", 9 * sec, 8*sec + 250*ms, eth0(0, 0), eth0(0, 0)},
		{"origin, last refresh before it", "eth0", 10 * sec, 9*sec + 250*ms, eth0(0, 0), eth0(0, 0)},
		{"just before a refresh", "eth0", 11*sec + 250*ms - 1, 10*sec + 250*ms, eth0(15_624_999, 0), eth0(3_125_000, 0)},
		{"at a refresh", "eth0", 11*sec + 250*ms, 11*sec + 250*ms, eth0(15_625_000, 0), eth0(15_625_000, 0)},
		// Tx: 1000 B/s over [2 s, 3 s), then 3 B/s: at 4.5 s 1000 + 4.5
		// rounded down; visible as of 4.25 s: 1000 + 3.75 rounded down.
		{"scripted send", "eth0", 14*sec + 500*ms, 14*sec + 250*ms, eth0(56_250_000, 1004), eth0(53_125_000, 1003)},
		{"inherited 0.9765 s period", "wlan0", 12 * sec, 11_718_000_000, wire.Counters{RxBytes: 2_000_000, RxPackets: 2000}, wire.Counters{RxBytes: 1_718_000, RxPackets: 1718}},
		{"refresh before phase 0 is negative", "wlan0", -1, -976_500_000, wire.Counters{}, wire.Counters{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, ok := d.LastRefresh(tt.iface, tt.at)
			if !ok || r != tt.wantRefresh {
				t.Errorf("LastRefresh(%s, %d) = %d, %v, want %d", tt.iface, tt.at, r, ok, tt.wantRefresh)
			}
			got, ok := d.True(tt.iface, tt.at)
			if diff := cmp.Diff(tt.wantTrue, got); !ok || diff != "" {
				t.Errorf("True(%s, %d) ok %v (-want +got):\n%s", tt.iface, tt.at, ok, diff)
			}
			got, ok = d.Visible(tt.iface, tt.at)
			if diff := cmp.Diff(tt.wantVisible, got); !ok || diff != "" {
				t.Errorf("Visible(%s, %d) ok %v (-want +got):\n%s", tt.iface, tt.at, ok, diff)
			}
		})
	}
	if _, ok := d.True("eth1", 0); ok {
		t.Errorf("True of an unknown interface: ok")
	}
	if _, ok := d.Visible("eth1", 0); ok {
		t.Errorf("Visible of an unknown interface: ok")
	}
	if diff := cmp.Diff([]string{"eth0", "wlan0"}, d.Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
}

// A driver without a period shows the true counters at every instant, as a
// software device does.
func TestDriverNoPeriod(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	d, err := NewDriver(DriverOptions{Dir: t.TempDir(), Clock: clk.now, Ifaces: []DriverIface{{Name: "br-lan", Rx: Constant(3)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int64{0, 1, sec/3 + 1, 7*sec + 999_999_999} {
		tr, _ := d.True("br-lan", at)
		vis, _ := d.Visible("br-lan", at)
		if diff := cmp.Diff(tr, vis); diff != "" {
			t.Errorf("at %d: Visible differs from True (-true +visible):\n%s", at, diff)
		}
		if want := uint64(at * 3 / sec); tr.RxBytes != want {
			t.Errorf("True(br-lan, %d).RxBytes = %d, want %d", at, tr.RxBytes, want)
		}
	}
}

func TestDriverTree(t *testing.T) {
	t.Parallel()
	d, clk := testDriver(t)
	eth0, _ := d.Visible("eth0", 10*sec)
	eth0.Ifindex = 2
	checkTree(t, d.ProcRoot(), d.SysRoot(), map[string]string{
		"dev":           string(Format(map[string]wire.Counters{"eth0": eth0, "wlan0": {Ifindex: 3}})),
		"boot_id":       "b00t\n",
		"eth0/ifindex":  "2\n",
		"eth0/speed":    "1000\n",
		"wlan0/ifindex": "3\n",
	}, "wlan0")
	// Render at an instant is Format of what is visible then.
	at := 12*sec + 300*int64(time.Millisecond)
	clk.ns.Store(at)
	e, _ := d.Visible("eth0", at)
	w, _ := d.Visible("wlan0", at)
	e.Ifindex, w.Ifindex = 2, 3
	if diff := cmp.Diff(string(Format(map[string]wire.Counters{"eth0": e, "wlan0": w})), string(d.Render(d.Now()))); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

func TestNewDriverErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    DriverOptions
		want string
	}{
		{"missing dir", DriverOptions{Dir: filepath.Join(dir, "nope")}, "no such file"},
		{"dir is a file", DriverOptions{Dir: file}, "not a directory"},
		{"negative period", DriverOptions{Dir: dir, Period: -1}, "must not be negative"},
		{"negative iface period", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Period: -1}}}, "must not be negative"},
		{"empty name", DriverOptions{Dir: dir, Ifaces: []DriverIface{{}}}, "not a name"},
		{"colon", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "eth0:1"}}}, "not a name"},
		{"slash", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "../x"}}}, "not a name"},
		{"too long", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: strings.Repeat("e", 16)}}}, "not a name"},
		{"twice", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a"}, {Name: "a"}}}, "listed twice"},
		{"steps out of order", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Rx: Rate{{At: 2}, {At: 1}}}}}, "increasing order"},
		{"step before origin", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Tx: Rate{{At: -1}}}}}, "increasing order"},
		{"negative jitter", DriverOptions{Dir: dir, Jitter: -1, Ifaces: []DriverIface{{Name: "a"}}}, "must not be negative"},
		{"jitter of a period", DriverOptions{Dir: dir, Period: time.Second, Jitter: time.Second, Ifaces: []DriverIface{{Name: "a"}}}, "below the period"},
		{"jitter of a changed period", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Period: time.Second, Jitter: 5 * time.Millisecond,
			Changes: []PeriodChange{{At: time.Second, Period: 5 * time.Millisecond}}}}}, "below the period"},
		{"missed fraction", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Miss: 0.6}}}, "within 0 and 0.5"},
		{"negative missed fraction", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Miss: -0.1}}}, "within 0 and 0.5"},
		{"change at the origin", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Changes: []PeriodChange{{At: 0}}}}}, "after the origin"},
		{"changes out of order", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Changes: []PeriodChange{{At: 2}, {At: 2}}}}}, "increasing order"},
		{"negative changed period", DriverOptions{Dir: dir, Ifaces: []DriverIface{{Name: "a", Changes: []PeriodChange{{At: 1, Period: -1}}}}}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewDriver(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewDriver() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestDriverServe reads the named pipe the way the agent does (package
// netdev's Reader) and with os.ReadFile, many times in a row: every read
// is exactly one copy rendered at the clock's instant of the read.
func TestDriverServe(t *testing.T) {
	t.Parallel()
	d, clk := testDriver(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	path := filepath.Join(d.ProcRoot(), "net", "dev")
	if err := d.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("WaitServing returned with net/dev %v (%v), want the named pipe", fi.Mode(), err)
	}
	r, err := netdev.NewReader(netdev.Options{ProcRoot: d.ProcRoot(), SysRoot: d.SysRoot()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const reads = 100
	var wantAt []int64
	for i := range reads {
		// Step through eth0's refreshes every few reads.
		at := 10*sec + int64(i)*sec/4
		clk.ns.Store(at)
		wantAt = append(wantAt, at)
		if i%2 == 0 {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			if diff := cmp.Diff(string(d.Render(at)), string(b)); diff != "" {
				t.Fatalf("read %d at %d (-want +got):\n%s", i, at, diff)
			}
			continue
		}
		snap, err := r.Read()
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if snap.Skipped != nil {
			t.Fatalf("read %d: skipped lines (a second copy?): %v", i, snap.Skipped)
		}
		want := map[string]wire.Counters{}
		for _, name := range d.Names() {
			c, _ := d.Visible(name, at)
			want[name] = c
		}
		want["eth0"] = withAttrs(want["eth0"], 2, 1000)
		want["wlan0"] = withAttrs(want["wlan0"], 3, 0)
		if diff := cmp.Diff(want, snap.Ifaces); diff != "" {
			t.Fatalf("read %d at %d (-want +got):\n%s", i, at, diff)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve() = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if got := d.Served(); got != reads {
		t.Errorf("Served() = %d, want %d", got, reads)
	}
	if got := d.Missed(); got != 0 {
		t.Errorf("Missed() = %d, want 0", got)
	}
	// What was served and when: one instant per copy, in order.
	if diff := cmp.Diff(wantAt, d.ServedAt()); diff != "" {
		t.Errorf("ServedAt() (-want +got):\n%s", diff)
	}
}

func withAttrs(c wire.Counters, ifindex, speed int64) wire.Counters {
	c.Ifindex, c.SpeedMbps = ifindex, speed
	return c
}

// refreshes lists the refresh instants of name in [from, to] by walking
// LastRefresh back from to: what a reader of the counters can observe.
func refreshes(t *testing.T, d *Driver, name string, from, to int64) []int64 {
	t.Helper()
	var out []int64
	for r, _ := d.LastRefresh(name, to); r >= from; r, _ = d.LastRefresh(name, r-1) {
		out = append([]int64{r}, out...)
	}
	return out
}

// TestDriverRefreshClock pins the refresh instants of the options that
// make a driver's clock irregular: late refreshes (Jitter), skipped ones
// (Miss) and period changes. The late amounts and the skipped instants
// come from a fixed hash of Seed, so the lists are exact and the same on
// every run; Visible must change exactly at them and nowhere else.
func TestDriverRefreshClock(t *testing.T) {
	t.Parallel()
	ms := int64(time.Millisecond)
	tests := []struct {
		name     string
		o        DriverOptions // Dir, Clock and the one interface "a" filled in
		in       DriverIface
		from, to int64 // on the driver's clock; the origin is at 10 s
		want     []int64
	}{
		{
			name: "zero options: today's grid",
			in:   DriverIface{Period: time.Second, Phase: 250 * time.Millisecond},
			from: 10 * sec, to: 13 * sec,
			want: []int64{10*sec + 250*ms, 11*sec + 250*ms, 12*sec + 250*ms},
		},
		{
			name: "jitter up to 4 ms, seed 1",
			in:   DriverIface{Period: time.Second, Phase: 250 * time.Millisecond, Jitter: 4 * time.Millisecond, Seed: 1},
			from: 10 * sec, to: 15 * sec,
			want: []int64{10_252_184_368, 11_251_038_165, 12_251_987_811, 13_252_832_448, 14_251_765_706},
		},
		{
			name: "jitter from the driver's defaults",
			o:    DriverOptions{Period: time.Second, Phase: 250 * time.Millisecond, Jitter: 4 * time.Millisecond, Seed: 1},
			from: 10 * sec, to: 15 * sec,
			want: []int64{10_252_184_368, 11_251_038_165, 12_251_987_811, 13_252_832_448, 14_251_765_706},
		},
		{
			name: "a quarter missed, seed 7",
			in:   DriverIface{Period: 100 * time.Millisecond, Miss: 0.25, Seed: 7},
			// 10.5, 10.7 and 10.8 s skipped.
			from: 10 * sec, to: 11 * sec,
			want: []int64{10 * sec, 10*sec + 100*ms, 10*sec + 200*ms, 10*sec + 300*ms, 10*sec + 400*ms, 10*sec + 600*ms, 10*sec + 900*ms, 11 * sec},
		},
		{
			// 1 s at 0.25 s until 12.5 s, then 0.5 s at phase 0.1 s:
			// the first instant of the new grid at or after the change
			// is 12.6 s.
			name: "period change",
			in: DriverIface{Period: time.Second, Phase: 250 * time.Millisecond,
				Changes: []PeriodChange{{At: 2500 * time.Millisecond, Period: 500 * time.Millisecond, Phase: 100 * time.Millisecond}}},
			from: 10 * sec, to: 14 * sec,
			want: []int64{10*sec + 250*ms, 11*sec + 250*ms, 12*sec + 250*ms, 12*sec + 600*ms, 13*sec + 100*ms, 13*sec + 600*ms},
		},
		{
			// Back to a period after a stretch of "always current":
			// during it every instant is a refresh (the walk would
			// list them all), so the window starts after it.
			name: "changes to always current and back",
			in: DriverIface{Period: time.Second, Phase: 0,
				Changes: []PeriodChange{{At: time.Second, Period: 0}, {At: 2 * time.Second, Period: 300 * time.Millisecond, Phase: 50 * time.Millisecond}}},
			from: 12*sec - 1, to: 13 * sec,
			want: []int64{12*sec - 1, 12*sec + 50*ms, 12*sec + 350*ms, 12*sec + 650*ms, 12*sec + 950*ms},
		},
		{
			name: "period change with jitter and misses, seed 3",
			in: DriverIface{Period: 976500 * time.Microsecond, Jitter: 4 * time.Millisecond, Miss: 0.2, Seed: 3,
				Changes: []PeriodChange{{At: 2 * time.Second, Period: 1024 * time.Millisecond, Phase: 7 * time.Millisecond}}},
			// 0.9765 s: 10.7415 s + 3 ms late, 11.718 s skipped; then
			// 1.024 s from 12.295 s (12.288 + 7 ms phase, 0.6 ms late).
			from: 10 * sec, to: 16 * sec,
			want: []int64{10_744_561_952, 12_295_595_480, 13_320_321_708, 14_346_865_762, 15_370_171_516},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{}
			clk.ns.Store(10 * sec)
			o := tt.o
			o.Dir, o.Clock = t.TempDir(), clk.now
			in := tt.in
			// 1 byte per ns: every refresh moves the counters.
			in.Name, in.Rx = "a", Constant(1_000_000_000)
			o.Ifaces = []DriverIface{in}
			d, err := NewDriver(o)
			if err != nil {
				t.Fatal(err)
			}
			got := refreshes(t, d, "a", tt.from, tt.to)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("refresh instants (-want +got):\n%s", diff)
			}
			// Traffic flows all the time, so the visible counters move at
			// every refresh after the origin, and only there.
			for _, r := range got {
				if r <= d.Origin() {
					continue
				}
				before, _ := d.Visible("a", r-1)
				at, _ := d.Visible("a", r)
				truth, _ := d.True("a", r)
				if before == at || at != truth {
					t.Errorf("at %d: visible %d -> %d, true %d; want a change to the true counters", r, before.RxBytes, at.RxBytes, truth.RxBytes)
				}
			}
		})
	}
}

// TestDriverJitterBounds checks the late amounts over many refreshes: each
// within [0, Jitter] of its nominal instant, spread over the range, and
// the skipped fraction near Miss.
func TestDriverJitterBounds(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	period, jitter := int64(100*time.Millisecond), int64(4*time.Millisecond)
	d, err := NewDriver(DriverOptions{Dir: t.TempDir(), Clock: clk.now, Seed: 42, Ifaces: []DriverIface{
		{Name: "a", Period: time.Duration(period), Jitter: time.Duration(jitter), Miss: 0.01},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := refreshes(t, d, "a", 0, 1000*sec)
	var lo, hi int64 = jitter, 0
	seen := map[int64]bool{}
	for _, r := range got {
		k, late := r/period, r%period
		if late > jitter || seen[k] {
			t.Fatalf("refresh at %d: %d ns after nominal instant %d (or twice)", r, late, k*period)
		}
		seen[k] = true
		lo, hi = min(lo, late), max(hi, late)
	}
	if lo > jitter/20 || hi < jitter*19/20 {
		t.Errorf("late amounts span %d…%d ns, want most of 0…%d", lo, hi, jitter)
	}
	missed := 10000 - len(got)
	if missed < 60 || missed > 140 {
		t.Errorf("%d of 10000 refreshes skipped, want about 100", missed)
	}
}

// TestMirror: the mirror is a regular file that follows the driver's
// refreshes in place, so that a reader holding it open and rewinding
// (Netdata's proc.plugin) reads each new copy.
func TestMirror(t *testing.T) {
	t.Parallel()
	d, clk := testDriver(t)
	path := filepath.Join(t.TempDir(), "dev")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Mirror(ctx, path) }()

	// waitFor reads f from its start until it holds want, as such a
	// reader does; it gives up after a guard that only a broken Mirror
	// reaches.
	waitFor := func(f *os.File, want []byte) {
		t.Helper()
		buf := make([]byte, 4096)
		var got []byte
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			n, err := f.ReadAt(buf, 0)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if got = buf[:n]; string(got) == string(want) {
				return
			}
		}
		t.Fatalf("the mirror holds\n%s\nwant\n%s", got, want)
	}
	var f *os.File
	for deadline := time.Now().Add(10 * time.Second); f == nil; time.Sleep(time.Millisecond) {
		var err error
		if f, err = os.Open(path); err != nil && time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the mirror is not a regular file: %v, %v", fi, err)
	}
	waitFor(f, d.Render(clk.now()))
	for _, at := range []int64{10*sec + 300e6, 11*sec + 260e6, 14*sec + 100e6} {
		before := d.Render(clk.now())
		clk.ns.Store(at)
		want := d.Render(at)
		if string(want) == string(before) {
			t.Fatalf("no refresh before %d: the test proves nothing", at)
		}
		waitFor(f, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWaitServing: WaitServing returns once Serve's pipe is in place, and
// with an error where Serve ended without serving or the context ended
// first; until Serve runs, net/dev is NewDriver's regular file.
func TestWaitServing(t *testing.T) {
	t.Parallel()
	t.Run("serving", func(t *testing.T) {
		t.Parallel()
		d, _ := testDriver(t)
		path := filepath.Join(d.ProcRoot(), "net", "dev")
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("before Serve: %v (%v), want a regular file", fi.Mode(), err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- d.Serve(ctx) }()
		if err := d.WaitServing(t.Context()); err != nil {
			t.Fatalf("WaitServing() = %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Serve() = %v", err)
		}
		if err := d.WaitServing(t.Context()); err != nil {
			t.Errorf("WaitServing() after Serve served and ended = %v, want nil", err)
		}
	})
	t.Run("Serve fails first", func(t *testing.T) {
		t.Parallel()
		d, _ := testDriver(t)
		if err := os.RemoveAll(filepath.Join(d.ProcRoot(), "net")); err != nil {
			t.Fatal(err)
		}
		if err := d.Serve(t.Context()); err == nil {
			t.Fatal("Serve() without its directory = nil, want an error")
		}
		if err := d.WaitServing(t.Context()); err == nil || !strings.Contains(err.Error(), "ended before serving") {
			t.Errorf("WaitServing() = %v, want the driver ended before serving", err)
		}
	})
	t.Run("context ends first", func(t *testing.T) {
		t.Parallel()
		d, _ := testDriver(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := d.WaitServing(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("WaitServing() = %v, want context.Canceled", err)
		}
	})
}
