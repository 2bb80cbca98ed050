package netdev

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/prometheus/procfs"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// benchTrees returns the er-x fixture and an 8-interface tree.
func benchTrees(b *testing.B) []struct{ name, proc, sys string } {
	tr := netdevtest.NewTree(b)
	for i := range 8 {
		tr.Set(fmt.Sprintf("eth%d", i), wire.Counters{RxBytes: 1 << 40, RxPackets: 1 << 30, TxBytes: 1 << 39, TxPackets: 1 << 29, Ifindex: int64(i + 2), SpeedMbps: 1000})
	}
	tr.Write()
	return []struct{ name, proc, sys string }{
		{"er-x", erxProc, erxSys},
		{"8-ifaces", tr.ProcRoot(), tr.SysRoot()},
	}
}

func BenchmarkRead(b *testing.B) {
	for _, tree := range benchTrees(b) {
		b.Run(tree.name, func(b *testing.B) {
			r, err := NewReader(Options{ProcRoot: tree.proc, SysRoot: tree.sys})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProcfsNetDev is the alternative Read does not take, for
// comparison: procfs's NetDev behind a recover, on the same trees.
func BenchmarkProcfsNetDev(b *testing.B) {
	for _, tree := range benchTrees(b) {
		b.Run(tree.name, func(b *testing.B) {
			fsys, err := procfs.NewFS(tree.proc)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := procfsNetDev(fsys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses the er-x fixture's /proc/net/dev: again and again
// (the adaptive watch's reads between refreshes, every line as before)
// and alternating with a copy whose counters all differ (every line
// parsed).
func BenchmarkParse(b *testing.B) {
	same, err := os.ReadFile(filepath.Join(erxProc, "net", "dev"))
	if err != nil {
		b.Fatal(err)
	}
	// The same lines with a 1 before every rx bytes counter.
	other := regexp.MustCompile(`(:\s*)(\d)`).ReplaceAll(same, []byte("${1}1$2"))
	visit := func([]byte, wire.Counters, int) {}
	for _, tt := range []struct {
		name string
		bufs [2][]byte
	}{{"unchanged", [2][]byte{same, same}}, {"all-changed", [2][]byte{same, other}}} {
		b.Run(tt.name, func(b *testing.B) {
			var p lineParser
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := p.parse(tt.bufs[i&1], visit); err != nil || p.skipped() != nil {
					b.Fatal(err, p.skipped())
				}
				i++
			}
		})
	}
}
