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
	read := func(elem ...string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(elem...))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	if got := read(tr.ProcRoot(), "net", "dev"); got != Header {
		t.Errorf("new tree net/dev = %q, want the header only", got)
	}
	tr.Set("eth0", wire.Counters{RxBytes: 5, Ifindex: 2, SpeedMbps: 1000})
	tr.Set("ppp0", wire.Counters{Ifindex: 3})
	tr.SetBootID("abc")
	if got := read(tr.ProcRoot(), "net", "dev"); got != Header {
		t.Errorf("net/dev changed before Write: %q", got)
	}
	tr.Write()
	got := map[string]string{
		"dev":          read(tr.ProcRoot(), "net", "dev"),
		"boot_id":      read(tr.ProcRoot(), "sys", "kernel", "random", "boot_id"),
		"eth0/ifindex": read(tr.SysRoot(), "class", "net", "eth0", "ifindex"),
		"eth0/speed":   read(tr.SysRoot(), "class", "net", "eth0", "speed"),
		"ppp0/ifindex": read(tr.SysRoot(), "class", "net", "ppp0", "ifindex"),
	}
	want := map[string]string{
		"dev":          string(Format(map[string]wire.Counters{"eth0": {RxBytes: 5, Ifindex: 2}, "ppp0": {Ifindex: 3}})),
		"boot_id":      "abc\n",
		"eth0/ifindex": "2\n",
		"eth0/speed":   "1000\n",
		"ppp0/ifindex": "3\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree files (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(tr.SysRoot(), "class", "net", "ppp0", "speed")); !os.IsNotExist(err) {
		t.Errorf("ppp0/speed with SpeedMbps 0: stat error %v, want not-exist", err)
	}
	tr.Remove("eth0")
	tr.Write()
	if _, err := os.Stat(filepath.Join(tr.SysRoot(), "class", "net", "eth0")); !os.IsNotExist(err) {
		t.Errorf("removed eth0 sysfs dir: stat error %v, want not-exist", err)
	}
	if got, want := read(tr.ProcRoot(), "net", "dev"), string(Format(map[string]wire.Counters{"ppp0": {Ifindex: 3}})); got != want {
		t.Errorf("net/dev after Remove = %q, want %q", got, want)
	}
	tr.WriteRaw("junk")
	if got := read(tr.ProcRoot(), "net", "dev"); got != "junk" {
		t.Errorf("net/dev after WriteRaw = %q", got)
	}
}
