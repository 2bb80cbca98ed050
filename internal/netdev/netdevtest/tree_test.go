package netdevtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	got := string(Format(map[string]wire.Counters{
		"switch0.10": {RxBytes: 389114425016, RxPackets: 2, Ifindex: 9},
		"💩0":         {RxBytes: 1, TxBytes: 2, RxErrors: 3, RxDropped: 4, TxErrors: 5, TxDropped: 6, RxPackets: 7, TxPackets: 8, Ifindex: 3},
		"lo":         {Ifindex: 1},
	}))
	// Widths as in dev_seq_printf_stats; "💩0" is 5 bytes, so one space of
	// padding, as the kernel's byte-counting %6s gives.
	want := Header +
		"    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
		" 💩0:       1       7    3    4    0     0          0         0        2       8    5    6    0     0       0          0\n" +
		"switch0.10: 389114425016       2    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Format() (-want +got):\n%s", diff)
	}
}

func TestTree(t *testing.T) {
	t.Parallel()
	tr := NewTree(t)
	if got := readFile(filepath.Join(tr.ProcRoot(), "net", "dev")); got != Header {
		t.Errorf("new tree net/dev = %q, want the header only", got)
	}
	tr.Set("eth0", wire.Counters{RxBytes: 5, Ifindex: 2, SpeedMbps: 1000})
	tr.Set("ppp0", wire.Counters{Ifindex: 3})
	tr.SetBootID("abc")
	if got := readFile(filepath.Join(tr.ProcRoot(), "net", "dev")); got != Header {
		t.Errorf("net/dev changed before Write: %q", got)
	}
	tr.Write()
	checkTree(t, tr.ProcRoot(), tr.SysRoot(), map[string]string{
		"dev":          string(Format(map[string]wire.Counters{"eth0": {RxBytes: 5, Ifindex: 2}, "ppp0": {Ifindex: 3}})),
		"boot_id":      "abc\n",
		"eth0/ifindex": "2\n",
		"eth0/speed":   "1000\n",
		"ppp0/ifindex": "3\n",
	}, "ppp0")
	tr.Remove("eth0")
	tr.Write()
	if _, err := os.Stat(filepath.Join(tr.SysRoot(), "class", "net", "eth0")); !os.IsNotExist(err) {
		t.Errorf("removed eth0 sysfs dir: stat error %v, want not-exist", err)
	}
	if got, want := readFile(filepath.Join(tr.ProcRoot(), "net", "dev")), string(Format(map[string]wire.Counters{"ppp0": {Ifindex: 3}})); got != want {
		t.Errorf("net/dev after Remove = %q, want %q", got, want)
	}
	tr.WriteRaw("junk")
	if got := readFile(filepath.Join(tr.ProcRoot(), "net", "dev")); got != "junk" {
		t.Errorf("net/dev after WriteRaw = %q", got)
	}
}

// readFile returns a file's content, or its error in angle brackets.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// checkTree compares a tree's files with want, keyed "dev" and "boot_id"
// (under proc) and "<if>/<attribute>" (under sys/class/net), and wants no
// speed file for noSpeed, an interface of speed 0.
func checkTree(t *testing.T, proc, sys string, want map[string]string, noSpeed string) {
	t.Helper()
	got := make(map[string]string, len(want))
	for name := range want {
		switch name {
		case "dev":
			got[name] = readFile(filepath.Join(proc, "net", "dev"))
		case "boot_id":
			got[name] = readFile(filepath.Join(proc, "sys", "kernel", "random", "boot_id"))
		default:
			got[name] = readFile(filepath.Join(sys, "class", "net", filepath.FromSlash(name)))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree files (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(sys, "class", "net", noSpeed, "speed")); !os.IsNotExist(err) {
		t.Errorf("%s/speed with SpeedMbps 0: stat error %v, want not-exist", noSpeed, err)
	}
}
