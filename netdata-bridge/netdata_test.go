package bridge

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/plugind"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-golden +got):\n%s", path, d)
	}
}

// scenario is a short life of one router: first sample, a rated second, a
// missed reply, a ppp0 reconnect (new ifindex: reset) and the return of
// rates, pppoe-wan going away for good.
func scenario(t *testing.T) []*NodeSample {
	s := NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: 2 * time.Second})
	s.Status("er-x", true)
	ifaces := func(rx uint64, pppIndex int64, ppp bool) map[string]wire.Counters {
		m := map[string]wire.Counters{
			"eth0":       {RxBytes: rx, TxBytes: rx / 4, RxPackets: rx / 1000, TxPackets: rx / 4000, RxErrors: rx / 1e6, Ifindex: 2, SpeedMbps: 1000},
			"switch0.10": {RxBytes: rx / 2, TxBytes: rx / 8, RxPackets: rx / 2000, TxPackets: rx / 8000, Ifindex: 9},
		}
		if ppp {
			m["pppoe-wan"] = wire.Counters{RxBytes: rx / 3, TxBytes: rx / 9, RxPackets: rx / 3000, TxPackets: rx / 9000, Ifindex: pppIndex}
		}
		return m
	}
	steps := []map[string]wire.Counters{
		ifaces(1_000_000, 17, true),
		ifaces(13_500_000, 17, true),
		nil,
		ifaces(38_500_000, 18, true), // ppp0 redialled: reset
		ifaces(51_000_000, 18, true),
		ifaces(63_500_000, 18, false),
		ifaces(76_000_000, 18, false),
		ifaces(88_500_000, 18, false),
	}
	var out []*NodeSample
	for i, m := range steps {
		tick := t0.Add(time.Duration(i) * time.Second)
		_, gaps := s.Tick(tick, 0)
		out = append(out, gaps...)
		if m == nil {
			continue
		}
		// Reads land 3 ms after the tick, with 1 ms of jitter: BEGIN must
		// carry the agent's own intervals.
		mono := int64(i)*1e9 + 5e9 + int64(i%2)*1e6
		ns, why := s.Reply("er-x", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "er-x", MonoNS: mono, BootID: "b", Ifaces: m}, tick.Add(3*time.Millisecond))
		if ns == nil {
			t.Fatalf("step %d dropped: %s", i, why)
		}
		out = append(out, ns)
	}
	return out
}

func TestNetdataOutputGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string
	}{
		{"netdata-1.37", "v1.37.1"},
		{"netdata-virtual-nodes", "v1.44.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := NewNetdataOutput(&buf, plugind.ParseFeatures(tt.version), time.Second, "6f0ee4e8-0b2a-11f0-9a7a-0242ac120002")
			for _, ns := range scenario(t) {
				if err := o.Emit(ns, ns.Tick); err != nil {
					t.Fatal(err)
				}
			}
			out := buf.String()
			if tt.version == "v1.37.1" && strings.Contains(out, "HOST") {
				t.Error("1.37 output contains a HOST keyword, which makes Netdata 1.37 kill the plugin")
			}
			golden(t, t.Name(), buf.Bytes())
		})
	}
}

type countingWriter struct {
	writes int
	err    error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func TestNetdataOutputOneWritePerSample(t *testing.T) {
	t.Parallel()
	w := &countingWriter{}
	o := NewNetdataOutput(w, plugind.Features{}, time.Second, "")
	samples := scenario(t)
	for _, ns := range samples {
		if err := o.Emit(ns, ns.Tick); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != len(samples) {
		t.Errorf("%d writes for %d samples, want one each", w.writes, len(samples))
	}
}

func TestNetdataOutputReportsClosedStdout(t *testing.T) {
	t.Parallel()
	o := NewNetdataOutput(&countingWriter{err: syscall.EPIPE}, plugind.Features{}, time.Second, "")
	err := o.Emit(scenario(t)[0], t0)
	if !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Emit() = %v, want EPIPE", err)
	}
}

func TestNetdataKeepalive(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := NewNetdataOutput(&buf, plugind.Features{}, time.Second, "")
	o.Keepalive(t0)
	if buf.String() != "\n" {
		t.Fatalf("first Keepalive wrote %q, want an empty line", buf.String())
	}
	o.Keepalive(t0.Add(29 * time.Second))
	o.Keepalive(t0.Add(30 * time.Second))
	if buf.String() != "\n\n" {
		t.Errorf("Keepalive wrote %q, want one line per 30 s of silence", buf.String())
	}
}

func TestNetdataTariffChart(t *testing.T) {
	t.Parallel()
	s := tariffSampler(t)
	s.Status("er-x", true)
	var buf bytes.Buffer
	o := NewNetdataOutput(&buf, plugind.Features{}, time.Second, "")
	t0 := time.Date(2026, 11, 22, 6, 59, 59, 0, time.UTC)
	for i, rx := range []uint64{0, 3_000_000, 6_000_000} {
		at := t0.Add(time.Duration(i) * time.Second)
		s.Tick(at, 0)
		ns, why := s.Reply("er-x", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "er-x", MonoNS: at.UnixNano(), TimeNS: at.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, Ifindex: 2}}}, at)
		if ns == nil {
			t.Fatal(why)
		}
		if err := o.Emit(ns, at); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, t.Name(), buf.Bytes())
}

// TestNetdataSubSecond: at a 250 ms interval each second is one round with
// the exact average over the second and the fastest quarter as the peak.
func TestNetdataSubSecond(t *testing.T) {
	t.Parallel()
	s := NewSampler(SamplerConfig{Interval: 250 * time.Millisecond, RunID: "run", ObsoleteAfter: time.Hour})
	s.Status("pi", true)
	var buf bytes.Buffer
	o := NewNetdataOutput(&buf, plugind.Features{}, 250*time.Millisecond, "")
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	// Bytes received in each quarter second: a microburst in the 4th.
	quarters := []uint64{0, 1000, 1000, 1000, 5000, 2000, 2000, 2000, 2000, 0}
	var rx uint64
	for i, q := range quarters {
		rx += q
		at := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		s.Tick(at, 0)
		ns, why := s.Reply("pi", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "pi", MonoNS: int64(i+1) * 250e6, TimeNS: at.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 100, Ifindex: 2}}}, at)
		if ns == nil {
			t.Fatal(why)
		}
		if err := o.Emit(ns, at); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	// The tick at 12:00:00 only starts the tracker (its second is a gap).
	// Second (12:00:00, 12:00:01]: 1000+1000+1000+5000 B in 1 s =
	// 64,000 bit/s on average, the last quarter 5000 B in 0.25 s =
	// 160,000 bit/s as the peak. Next second: 4 × 2000 B, average and
	// peak 64,000 bit/s.
	for _, want := range []string{
		"BEGIN 'ifstat_pi.eth0_net'\nSET 'received' = ''\n",
		"BEGIN 'ifstat_pi.eth0_net' 1000000\nSET 'received' = 64000\n",
		"BEGIN 'ifstat_pi.eth0_net_peak' 1000000\nSET 'received' = 160000\n",
		"BEGIN 'ifstat_pi.eth0_net_peak' 1000000\nSET 'received' = 64000\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stream lacks %q", want)
		}
	}
	golden(t, t.Name(), buf.Bytes())
}
