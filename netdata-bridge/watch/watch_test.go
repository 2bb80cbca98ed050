package watch

import (
	"bytes"
	"strings"
	"testing"
	"time"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

func TestBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    uint64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}, {1<<64 - 1, "16.0 EiB"}}
	for _, tt := range tests {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	if got, want := Sparkline([]float64{0, 1, 2, 3, 4, 5, 6, 7}), "▁▂▃▄▅▆▇█"; got != want {
		t.Errorf("Sparkline = %q, want %q", got, want)
	}
	if got := Sparkline([]float64{0, 0}); got != "▁▁" {
		t.Errorf("Sparkline of zeros = %q", got)
	}
}

func TestViewTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	v := New(&buf, []string{"demo header"}, false, 0)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	res := rate.Result{Status: rate.OK, Rate: true, DtNS: 1e9}
	res.Delta[rate.RxBytes] = 1_250_000 // 10,000 kbit/s
	res.Delta[rate.TxBytes] = 125_000
	res.Total[rate.RxBytes] = 3 << 20
	ns := &bridge.NodeSample{Node: "er-x", Tick: t0, Ifaces: []bridge.IfaceSample{
		{Name: "eth0", Result: res},
		{Name: "wg0", Absent: true},
	}}
	if err := v.Emit(ns, t0); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"demo header", "er-x", "eth0", "10000.000", "1000.000", "3.0 MiB", "ok", "wg0", "absent"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
