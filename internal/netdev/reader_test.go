package netdev

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

const (
	erxProc = "testdata/er-x/proc"
	erxSys  = "testdata/er-x/sys"
)

// fakeClock returns mono 1000, 2000, … and wall 10^18 + the same.
func fakeClock() func() (int64, int64) {
	var n int64
	return func() (int64, int64) {
		n += 1000
		return n, 1e18 + n
	}
}

func newReader(t testing.TB, o Options) *Reader {
	t.Helper()
	if o.Clock == nil {
		o.Clock = fakeClock()
	}
	r, err := NewReader(o)
	if err != nil {
		t.Fatalf("NewReader(%+v) error %v", o, err)
	}
	return r
}

func TestReadERX(t *testing.T) {
	t.Parallel()
	r := newReader(t, Options{ProcRoot: erxProc, SysRoot: erxSys})
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	// The fake clock ticks 1000 ns per call: once before the read, once after.
	want := Snapshot{StartNS: 1000, MonoNS: 2000, TimeNS: 1e18 + 2000, Ifaces: map[string]wire.Counters{
		"imq0":       {Ifindex: 2},
		"eth0":       {RxBytes: 389114425016, RxPackets: 287155930, RxDropped: 1207, TxBytes: 30471963291, TxPackets: 139855217, Ifindex: 3, SpeedMbps: 1000},
		"eth1":       {RxBytes: 24715590231, RxPackets: 97441215, TxBytes: 371560330617, TxPackets: 266998120, Ifindex: 4, SpeedMbps: 1000},
		"eth2":       {RxBytes: 291566203, RxPackets: 2001871, RxErrors: 3, TxBytes: 2411788066, TxPackets: 2650419, Ifindex: 5, SpeedMbps: 100},
		"eth3":       {Ifindex: 6},
		"eth4":       {Ifindex: 7},
		"switch0":    {RxBytes: 25031372658, RxPackets: 99457011, RxDropped: 17, TxBytes: 373972118683, TxPackets: 269648539, Ifindex: 8, SpeedMbps: 1000},
		"switch0.10": {RxBytes: 1380213677, RxPackets: 9870022, TxBytes: 22741095217, TxPackets: 17330412, Ifindex: 9, SpeedMbps: 1000},
		"pppoe0":     {RxBytes: 383377129312, RxPackets: 284766901, TxBytes: 29145711874, TxPackets: 138121306, TxDropped: 61, Ifindex: 10},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read() (-want +got):\n%s", diff)
	}
	wantNames := []string{"eth0", "eth1", "eth2", "eth3", "eth4", "imq0", "pppoe0", "switch0", "switch0.10"}
	if diff := cmp.Diff(wantNames, r.Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
	if got, want := r.BootID(), "3f0b1c2e-8d4a-4e59-9a51-6c2f7e0d9b14"; got != want {
		t.Errorf("BootID() = %q, want %q", got, want)
	}
}

// procfsNetDev is what the brief first proposed: procfs's NetDev behind a
// recover. It is kept here as the reference our parser is compared with.
func procfsNetDev(fsys procfs.FS) (nd procfs.NetDev, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("procfs panicked")
		}
	}()
	return fsys.NetDev()
}

// TestAgreesWithProcfs reads the er-x fixture with procfs and with Read.
func TestAgreesWithProcfs(t *testing.T) {
	t.Parallel()
	fsys, err := procfs.NewFS(erxProc)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := procfsNetDev(fsys)
	if err != nil {
		t.Fatal(err)
	}
	sel, _ := NewSelector([]string{"*"})
	snap, err := newReader(t, Options{ProcRoot: erxProc, SysRoot: erxSys, Select: sel}).Read()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]wire.Counters{}
	for name, l := range nd {
		c := wire.Counters{RxBytes: l.RxBytes, TxBytes: l.TxBytes, RxPackets: l.RxPackets, TxPackets: l.TxPackets,
			RxErrors: l.RxErrors, TxErrors: l.TxErrors, RxDropped: l.RxDropped, TxDropped: l.TxDropped}
		c.Ifindex, c.SpeedMbps = snap.Ifaces[name].Ifindex, snap.Ifaces[name].SpeedMbps
		want[name] = c
	}
	if diff := cmp.Diff(want, snap.Ifaces); diff != "" {
		t.Errorf("Read() differs from procfs NetDev (-procfs +ours):\n%s", diff)
	}
}

// TestTruncatedLine proves why Read does not call procfs: v0.23.0 panics on
// a truncated line, while Read skips just that line. If procfs stops
// panicking, the first half of this test says so.
func TestTruncatedLine(t *testing.T) {
	t.Parallel()
	tr := netdevtest.NewTree(t)
	tr.Set("eth0", eth0)
	tr.WriteRaw(netdevtest.Header + kline("eth0", eth0) + "  eth1: 5 1\n")

	fsys, err := procfs.NewFS(tr.ProcRoot())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := procfsNetDev(fsys); err == nil || err.Error() != "procfs panicked" {
		t.Errorf("procfs NetDev on a truncated line: error %v, want a panic (fixed upstream?)", err)
	}

	snap, err := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()}).Read()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]wire.Counters{"eth0": eth0}, snap.Ifaces); diff != "" {
		t.Errorf("Read() (-want +got):\n%s", diff)
	}
	var le *LineError
	if !errors.As(snap.Skipped, &le) || le.Line != 4 || le.Name != "eth1" {
		t.Errorf("Read().Skipped = %v, want a *LineError for line 4 (eth1)", snap.Skipped)
	}
}

func TestReadHostile(t *testing.T) {
	t.Parallel()
	sel, _ := NewSelector([]string{"*"})
	for _, tt := range hostileCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := netdevtest.NewTree(t)
			tr.WriteRaw(tt.content)
			r := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot(), Select: sel})
			snap, err := r.Read()
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Read() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if snap.Ifaces != nil {
					t.Errorf("Read() with error returned interfaces %v", snap.Ifaces)
				}
				return
			}
			if diff := cmp.Diff(tt.want, snap.Ifaces); diff != "" {
				t.Errorf("Read() interfaces (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSkipped, skippedLines(t, snap.Skipped)); diff != "" {
				t.Errorf("Read() skipped lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	t.Parallel()
	tr := netdevtest.NewTree(t)
	if err := os.Remove(filepath.Join(tr.ProcRoot(), "net", "dev")); err != nil {
		t.Fatal(err)
	}
	_, err := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()}).Read()
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join("net", "dev")) {
		t.Errorf("Read() of a missing file: error %v, want fs.ErrNotExist naming the path", err)
	}
}

// A failed read leaves the Reader as it was: the next good read is not a
// set change.
func TestReadRecoversAfterError(t *testing.T) {
	t.Parallel()
	tr := netdevtest.NewTree(t)
	tr.Set("eth0", wire.Counters{RxBytes: 1, Ifindex: 2})
	tr.Write()
	r := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()})
	reads := countAttrReads(r)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	tr.WriteRaw("junk")
	if _, err := r.Read(); !errors.Is(err, ErrFormat) {
		t.Fatalf("Read() of junk: error %v, want ErrFormat", err)
	}
	tr.Write()
	snap, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]wire.Counters{"eth0": {RxBytes: 1, Ifindex: 2}}, snap.Ifaces); diff != "" {
		t.Errorf("Read() (-want +got):\n%s", diff)
	}
	if *reads != 1 {
		t.Errorf("sysfs read %d times, want 1", *reads)
	}
}

// countAttrReads swaps r's sysfs seam for one that counts its calls.
func countAttrReads(r *Reader) *int {
	n := new(int)
	real := r.readAttrs
	r.readAttrs = func(dir string) (int64, int64) {
		*n++
		return real(dir)
	}
	return n
}

// TestAttrCache walks one Reader through a sequence of tree changes and
// checks, after each, the snapshot and how many interfaces' sysfs
// attributes were read.
func TestAttrCache(t *testing.T) {
	t.Parallel()
	tr := netdevtest.NewTree(t)
	r := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()})
	reads := countAttrReads(r)

	type m = map[string]wire.Counters
	steps := []struct {
		name      string
		change    func()
		want      m
		wantReads int
	}{
		{"first read reads all", func() {
			tr.Set("lo", wire.Counters{RxBytes: 1, Ifindex: 1})
			tr.Set("eth0", wire.Counters{RxBytes: 100, Ifindex: 2, SpeedMbps: 1000})
			tr.Set("wg0", wire.Counters{RxBytes: 50, Ifindex: 5})
		}, m{"eth0": {RxBytes: 100, Ifindex: 2, SpeedMbps: 1000}, "wg0": {RxBytes: 50, Ifindex: 5}}, 2},
		{"unchanged reads none", func() {},
			m{"eth0": {RxBytes: 100, Ifindex: 2, SpeedMbps: 1000}, "wg0": {RxBytes: 50, Ifindex: 5}}, 0},
		{"changed attribute files are not re-read", func() {
			tr.SetAttr("eth0", "ifindex", "7\n")
			tr.SetAttr("eth0", "speed", "100\n")
			tr.Set("eth0", wire.Counters{RxBytes: 200, Ifindex: 7, SpeedMbps: 100})
		}, m{"eth0": {RxBytes: 200, Ifindex: 2, SpeedMbps: 1000}, "wg0": {RxBytes: 50, Ifindex: 5}}, 0},
		{"rising counters read nothing", func() {
			tr.Set("wg0", wire.Counters{RxBytes: 60, Ifindex: 5})
		}, m{"eth0": {RxBytes: 200, Ifindex: 2, SpeedMbps: 1000}, "wg0": {RxBytes: 60, Ifindex: 5}}, 0},
		{"a counter going down re-reads that interface (re-created)", func() {
			tr.Set("eth0", wire.Counters{RxBytes: 10, Ifindex: 7, SpeedMbps: 100})
		}, m{"eth0": {RxBytes: 10, Ifindex: 7, SpeedMbps: 100}, "wg0": {RxBytes: 60, Ifindex: 5}}, 1},
		{"a new interface re-reads all", func() {
			tr.Set("ppp0", wire.Counters{RxBytes: 3, Ifindex: 9})
			tr.SetAttr("wg0", "ifindex", "6\n")
		}, m{"eth0": {RxBytes: 10, Ifindex: 7, SpeedMbps: 100}, "wg0": {RxBytes: 60, Ifindex: 6}, "ppp0": {RxBytes: 3, Ifindex: 9}}, 3},
		{"a vanished interface is absent and re-reads the rest", func() {
			tr.Remove("wg0")
		}, m{"eth0": {RxBytes: 10, Ifindex: 7, SpeedMbps: 100}, "ppp0": {RxBytes: 3, Ifindex: 9}}, 2},
		{"it comes back", func() {
			tr.Set("wg0", wire.Counters{RxBytes: 1, Ifindex: 11})
		}, m{"eth0": {RxBytes: 10, Ifindex: 7, SpeedMbps: 100}, "ppp0": {RxBytes: 3, Ifindex: 9}, "wg0": {RxBytes: 1, Ifindex: 11}}, 3},
		{"an unselected interface appearing reads nothing", func() {
			tr.Remove("lo")
			tr.Set("lo", wire.Counters{Ifindex: 1})
		}, m{"eth0": {RxBytes: 10, Ifindex: 7, SpeedMbps: 100}, "ppp0": {RxBytes: 3, Ifindex: 9}, "wg0": {RxBytes: 1, Ifindex: 11}}, 0},
	}
	for _, st := range steps {
		st.change()
		tr.Write()
		before := *reads
		snap, err := r.Read()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, snap.Ifaces); diff != "" {
			t.Errorf("%s: Read() (-want +got):\n%s", st.name, diff)
		}
		if got := *reads - before; got != st.wantReads {
			t.Errorf("%s: sysfs read for %d interfaces, want %d", st.name, got, st.wantReads)
		}
	}
}

func TestAttrValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ifindex, speed string // "" = file absent
		want                 wire.Counters
	}{
		{"normal", "3\n", "1000\n", wire.Counters{Ifindex: 3, SpeedMbps: 1000}},
		{"unknown speed", "3\n", "-1\n", wire.Counters{Ifindex: 3}},
		{"no files", "", "", wire.Counters{}},
		{"garbage", "x\n", "fast\n", wire.Counters{}},
		{"empty", "\n", "\n", wire.Counters{}},
		{"negative ifindex", "-4\n", "10\n", wire.Counters{SpeedMbps: 10}},
		{"long file", strings.Repeat("9", 100), "2500\n", wire.Counters{SpeedMbps: 2500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := netdevtest.NewTree(t)
			tr.Set("eth0", wire.Counters{})
			for attr, v := range map[string]string{"ifindex": tt.ifindex, "speed": tt.speed} {
				if v != "" {
					tr.SetAttr("eth0", attr, v)
				}
			}
			tr.Write()
			snap, err := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()}).Read()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]wire.Counters{"eth0": tt.want}, snap.Ifaces); diff != "" {
				t.Errorf("Read() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDuplicateAcrossReads(t *testing.T) {
	t.Parallel()
	tr := netdevtest.NewTree(t)
	tr.Set("eth0", wire.Counters{RxBytes: 5, Ifindex: 2})
	tr.Set("eth1", wire.Counters{RxBytes: 6, Ifindex: 3})
	r := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()})
	reads := countAttrReads(r)

	tr.WriteRaw(netdevtest.Header + kline("eth0", eth0) + kline("eth1", eth1) + kline("eth0", eth1))
	snap, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]wire.Counters{"eth1": {RxBytes: 5, RxPackets: 1, TxBytes: 6, TxPackets: 1, Ifindex: 3}}, snap.Ifaces); diff != "" {
		t.Errorf("Read() with a duplicate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"eth1"}, r.Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
	tr.Write()
	if snap, err = r.Read(); err != nil {
		t.Fatal(err)
	}
	want := map[string]wire.Counters{"eth0": {RxBytes: 5, Ifindex: 2}, "eth1": {RxBytes: 6, Ifindex: 3}}
	if diff := cmp.Diff(want, snap.Ifaces); diff != "" {
		t.Errorf("Read() after the duplicate went (-want +got):\n%s", diff)
	}
	if *reads != 4 { // eth0, eth1 in the first read; both again on the set change
		t.Errorf("sysfs read %d times, want 4", *reads)
	}
}

func TestNamesIsACopy(t *testing.T) {
	t.Parallel()
	r := newReader(t, Options{ProcRoot: erxProc, SysRoot: erxSys})
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	r.Names()[0] = "mangled"
	if got := r.Names()[0]; got != "eth0" {
		t.Errorf("Names()[0] = %q after the caller changed its copy, want eth0", got)
	}
}

func TestBootID(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"kernel", "0d7e1c55-1a8d-4c8e-9f0e-3b5e2a6c7d11\n", "0d7e1c55-1a8d-4c8e-9f0e-3b5e2a6c7d11"},
		{"missing", "", ""},
		{"too long", strings.Repeat("a", 100) + "\n", ""},
		{"control bytes", "ab\x00cd\n", ""},
		{"inner space", "ab cd\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := netdevtest.NewTree(t)
			if tt.content != "" {
				tr.SetBootID(strings.TrimSuffix(tt.content, "\n"))
			}
			if got := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()}).BootID(); got != tt.want {
				t.Errorf("BootID() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewReaderErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{ProcRoot: filepath.Join(dir, "nope"), SysRoot: dir},
		{ProcRoot: dir, SysRoot: filepath.Join(dir, "nope")},
		{ProcRoot: file, SysRoot: dir},
	} {
		if _, err := NewReader(o); err == nil {
			t.Errorf("NewReader(%+v) = nil error, want one", o)
		}
	}
}

// The default clocks are the kernel's: mono is CLOCK_BOOTTIME, positive and
// never decreasing; wall is after 2020. Only ordering is checked, not
// durations.
func TestDefaultClock(t *testing.T) {
	t.Parallel()
	r, err := NewReader(Options{ProcRoot: erxProc, SysRoot: erxSys})
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if a.MonoNS <= 0 || b.MonoNS < a.MonoNS || a.TimeNS < 1577836800e9 {
		t.Errorf("clocks: mono %d then %d, wall %d", a.MonoNS, b.MonoNS, a.TimeNS)
	}
}

func TestUname(t *testing.T) {
	t.Parallel()
	release, machine := Uname()
	if release == "" || machine == "" || strings.ContainsRune(release+machine, 0) {
		t.Errorf("Uname() = %q, %q", release, machine)
	}
}

// Steady-state reads allocate once: the buffer, the state and the snapshot
// map are reused; unix.Open copies the path to add its NUL, which we accept
// rather than open-coding openat with unsafe.
func TestReadAllocs(t *testing.T) {
	r := newReader(t, Options{ProcRoot: erxProc, SysRoot: erxSys})
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Errorf("Read() allocates %v times per call, want 1", allocs)
	}
}

// TestReadThisMachine reads the real /proc and /sys: the header must parse,
// no line may be skipped, and "lo" is left out by default.
func TestReadThisMachine(t *testing.T) {
	t.Parallel()
	r, err := NewReader(Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if snap.Skipped != nil {
		t.Errorf("Read() of /proc/net/dev skipped lines: %v", snap.Skipped)
	}
	if _, ok := snap.Ifaces["lo"]; ok {
		t.Error("Read() with no selector reported lo")
	}
	if r.BootID() == "" {
		t.Error("BootID() of this machine is empty")
	}
}

// TestReadKeepsProcOpen checks the two read paths: the kernel's file is
// kept open and re-read with pread (fresh data every time), a regular file
// is reopened so a replacement by rename is seen.
func TestReadKeepsProcOpen(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/net/dev"); err != nil {
		t.Skip("no /proc/net/dev here")
	}
	r, err := NewReader(Options{ProcRoot: "/proc", SysRoot: "/sys", Select: mustSelector(t, "*")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	lo := first.Ifaces["lo"]
	if r.fd < 0 {
		t.Fatal("the procfs file was not kept open")
	}
	// Traffic on lo between the reads proves the second read is fresh,
	// not a replay of the first one's bytes.
	if c, err := net.Dial("tcp", "127.0.0.1:1"); err == nil {
		c.Close()
	}
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Ifaces["lo"]; got.TxPackets <= lo.TxPackets {
		t.Errorf("lo tx_packets %d then %d: second read not fresh", lo.TxPackets, got.TxPackets)
	}
	if second.MonoNS <= first.MonoNS {
		t.Errorf("mono_ns %d then %d: not increasing", first.MonoNS, second.MonoNS)
	}

	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1})
	tree.Write()
	fr, err := NewReader(Options{ProcRoot: tree.ProcRoot(), SysRoot: tree.SysRoot()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fr.Read(); err != nil {
		t.Fatal(err)
	}
	if fr.fd >= 0 {
		t.Error("a regular file was kept open: a rename would go unseen")
	}
	tree.Set("eth0", wire.Counters{RxBytes: 2})
	tree.Write()
	snap, err := fr.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Ifaces["eth0"].RxBytes; got != 2 {
		t.Errorf("after rewrite rx_bytes = %d, want 2", got)
	}
}

func mustSelector(t *testing.T, p ...string) *Selector {
	t.Helper()
	s, err := NewSelector(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReadFromFIFO: a counter file generated on each open (a named pipe,
// as the end-to-end test serves it) cannot seek; it must still be read.
func TestReadFromFIFO(t *testing.T) {
	t.Parallel()
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 7})
	tree.Write()
	content, err := os.ReadFile(filepath.Join(tree.ProcRoot(), "net", "dev"))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(tree.ProcRoot(), "net", "dev")
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(content)
		f.Close()
	}()
	r, err := NewReader(Options{ProcRoot: tree.ProcRoot(), SysRoot: tree.SysRoot()})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Read()
	if err != nil {
		t.Fatalf("Read() from a FIFO: %v", err)
	}
	if got := snap.Ifaces["eth0"].RxBytes; got != 7 {
		t.Errorf("rx_bytes = %d, want 7", got)
	}
}
