package netdatatest

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testTimeout guards each end-to-end test; points normally arrive in
// about 10 s (README.md).
const testTimeout = 40 * time.Second

// absolutePlugin sends x = 1000 every update-every seconds. It also reports
// its arguments, a user config file and an environment variable on stderr,
// so the test sees what a plugin gets.
const absolutePlugin = `#!/bin/sh
echo "netdatatest args=[$*]" >&2
echo "netdatatest conf=[$(cat "$NETDATA_USER_CONFIG_DIR/test.conf")]" >&2
echo "netdatatest env=[$NETDATATEST_VAR]" >&2
echo "CHART test.rate '' 'netdatatest absolute' 'things/s' family test.rate line 1000 $1"
echo "DIMENSION x x absolute 1 1"
echo "BEGIN test.rate"
echo "SET x = 1000"
echo "END"
while sleep "$1"; do
	echo "BEGIN test.rate $(($1 * 1000000))"
	echo "SET x = 1000"
	echo "END"
done
`

// incrementalPlugin sends a counter that grows by 2500 per round and
// declares each round to be exactly update-every long, so the rate is
// 2500/s whatever the shell's real timing.
const incrementalPlugin = `#!/bin/sh
echo "CHART test.inc '' 'netdatatest incremental' 'things/s' family test.inc line 1000 $1"
echo "DIMENSION x x incremental 1 1"
x=1000000
echo "BEGIN test.inc"
echo "SET x = $x"
echo "END"
while sleep "$1"; do
	x=$((x + 2500 * $1))
	echo "BEGIN test.inc $(($1 * 1000000))"
	echo "SET x = $x"
	echo "END"
done
`

func repeat(v float64, n int) []*float64 {
	out := make([]*float64, n)
	for i := range out {
		out[i] = &v
	}
	return out
}

func TestAbsoluteChart(t *testing.T) {
	proctest.SkipShort(t, "starts a real Netdata")
	t.Parallel()
	n := Start(t, Options{
		Plugins:              map[string][]byte{"test.plugin": []byte(absolutePlugin)},
		PluginCommandOptions: map[string]string{"test": "--flag 'two words'"},
		UserConfig:           map[string][]byte{"test.conf": []byte("KEY=value")},
		Env:                  []string{"NETDATATEST_VAR=inherited"},
	})
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if !strings.HasPrefix(n.Version(), "v") {
		t.Errorf("Version() = %q, want v…", n.Version())
	}
	start := time.Now()

	chart, err := n.WaitChart(ctx, "test.rate")
	if err != nil {
		t.Fatal(err)
	}
	listed := time.Since(start)
	wantChart := Chart{
		ID: "test.rate", Name: "test.rate", Type: "test", Family: "family", Context: "test.rate",
		Title: "netdatatest absolute (test.rate)", Units: "things/s", ChartType: "line", Priority: 1000,
		Plugin: "test.plugin", UpdateEvery: 1,
		Dimensions: map[string]Dimension{"x": {Name: "x"}},
	}
	if diff := cmp.Diff(wantChart, chart); diff != "" {
		t.Errorf("WaitChart() mismatch (-want +got):\n%s", diff)
	}

	got, err := n.WaitPoints(ctx, "test.rate", "x", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chart listed after %v, 2 warm-up + 5 points after %v", listed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if diff := cmp.Diff(repeat(1000, 5), got); diff != "" {
		t.Errorf("WaitPoints() mismatch (-want +got):\n%s", diff)
	}

	t.Run("plugin sees args, user config and environment", func(t *testing.T) {
		log := n.ErrorLog()
		for _, want := range []string{
			"netdatatest args=[1 --flag two words]",
			"netdatatest conf=[KEY=value]",
			"netdatatest env=[inherited]",
		} {
			if !strings.Contains(log, want) {
				t.Errorf("error log lacks %q", want)
			}
		}
	})

	t.Run("listens only on 127.0.0.1", func(t *testing.T) {
		var socks []socket
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			s, err := readProcNetTCP(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			socks = append(socks, s...)
		}
		var ours []netip.AddrPort
		for _, s := range socks {
			if s.State == tcpListen && int(s.Local.Port()) == n.port {
				ours = append(ours, s.Local)
			}
		}
		want := []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(n.port))}
		if diff := cmp.Diff(want, ours, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
			t.Errorf("listening sockets on port %d mismatch (-want +got):\n%s", n.port, diff)
		}
		// Belt and braces: the machine's own other addresses refuse.
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			p, ok := netip.AddrFromSlice(a.(*net.IPNet).IP)
			if !ok || p.IsLoopback() || p.IsLinkLocalUnicast() {
				continue
			}
			addr := netip.AddrPortFrom(p.Unmap(), uint16(n.port)).String()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err == nil {
				c.Close()
				t.Errorf("connecting to %s succeeded, want refused", addr)
			}
		}
	})

	t.Run("Stop ends the whole process group", func(t *testing.T) {
		n.Stop()
		n.Stop() // idempotent
		// Zombies may stay in the group until init reaps them; anything
		// else still running there is a leak.
		live, err := liveGroupMembers(n.pgid)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) > 0 {
			t.Errorf("processes still running in group %d after Stop: %q", n.pgid, live)
		}
	})
}

func TestIncrementalChart(t *testing.T) {
	proctest.SkipShort(t, "starts a real Netdata")
	t.Parallel()
	// Given as a file, the way a test passes a Go binary it built, from a
	// directory the daemon's user cannot enter: Start must copy it.
	src := filepath.Join(t.TempDir(), "built")
	if err := os.WriteFile(src, []byte(incrementalPlugin), 0o700); err != nil {
		t.Fatal(err)
	}
	n := Start(t, Options{PluginFiles: map[string]string{"test.plugin": src}})
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	start := time.Now()
	if _, err := n.WaitChart(ctx, "test.inc"); err != nil {
		t.Fatal(err)
	}
	got, err := n.WaitPoints(ctx, "test.inc", "x", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2 warm-up + 5 points after %v: %s", time.Since(start).Round(time.Millisecond), formatPoints(got))
	// The plugin claims exact 1 s rounds, but when a round's line reaches
	// Netdata late (a busy machine delays the shell's sleep), 1.37 realigns
	// its collection time to its own clock and interpolates the slot: one
	// point came out as 2497.277. What this test checks is that the harness
	// reads an incremental dimension as its rate (2500, not the counter or
	// a zero), so the points may differ from it by that realignment.
	if diff := cmp.Diff(repeat(2500, 5), got, cmpopts.EquateApprox(0.01, 0)); diff != "" {
		t.Errorf("WaitPoints() mismatch (-want +got):\n%s", diff)
	}
}

func TestWaitChartReportsLog(t *testing.T) {
	proctest.SkipShort(t, "starts a real Netdata")
	t.Parallel()
	// A plugin that SETs a dimension it never defined is disabled for good;
	// the error must say so through the log tail.
	bad := "#!/bin/sh\necho \"CHART test.bad '' t u\"\necho 'DIMENSION x'\necho 'BEGIN test.bad'\necho 'SET y = 1'\necho END\nsleep 30\n"
	n := Start(t, Options{Plugins: map[string][]byte{"bad.plugin": []byte(bad)}})
	// The wait ends once Netdata has logged the bad SET (however long a
	// loaded machine takes to get there), or after testTimeout.
	const line = "dimension does not exist"
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	go func() {
		for !strings.Contains(n.ErrorLog(), line) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		cancel()
	}()
	// The chart itself is created before the bad SET, so wait for another.
	_, err := n.WaitChart(ctx, "test.never")
	if err == nil {
		t.Fatal("WaitChart(test.never) succeeded")
	}
	if !strings.Contains(err.Error(), line) {
		t.Errorf("WaitChart() error lacks the log line about the bad SET:\n%v", err)
	}
}

// liveGroupMembers lists "pid comm" of the processes in process group pgid
// that are not zombies.
func liveGroupMembers(pgid int) ([]string, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var live []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			return nil, fmt.Errorf("%s: no comm", p)
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 {
			return nil, fmt.Errorf("%s: short", p)
		}
		if f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			live = append(live, s[:i+1])
		}
	}
	return live, nil
}

const tcpListen = 0x0A

// socket is one line of /proc/net/tcp or /proc/net/tcp6.
type socket struct {
	Local netip.AddrPort
	State uint8
}

func readProcNetTCP(path string) ([]socket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := parseProcNetTCP(f)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return s, nil
}

// parseProcNetTCP reads the local address and state of every socket. The
// kernel prints addresses as 32-bit words in host byte order, which is
// little-endian on every machine these tests run on.
func parseProcNetTCP(r io.Reader) ([]socket, error) {
	var out []socket
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			return nil, fmt.Errorf("short line %q", sc.Text())
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("local address %q", f[1])
		}
		raw, err := hex.DecodeString(hexAddr)
		if err != nil || (len(raw) != 4 && len(raw) != 16) {
			return nil, fmt.Errorf("local address %q", f[1])
		}
		for i := 0; i < len(raw); i += 4 {
			binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
		}
		addr, _ := netip.AddrFromSlice(raw)
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("local port %q: %w", hexPort, err)
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", f[3], err)
		}
		out = append(out, socket{Local: netip.AddrPortFrom(addr.Unmap(), uint16(port)), State: uint8(st)})
	}
	return out, sc.Err()
}

func TestParseProcNetTCP(t *testing.T) {
	t.Parallel()
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name    string
		in      string
		want    []socket
		wantErr bool
	}{
		{
			name: "ipv4 loopback and any",
			in: header +
				"   0: 0100007F:4E1F 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 1 1 0 100 0 0 10 0\n" +
				"   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n" +
				"   2: 0100007F:4E1F 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000   999        0 3 1 0 20 4 30 10 -1\n",
			want: []socket{
				{netip.MustParseAddrPort("127.0.0.1:19999"), tcpListen},
				{netip.MustParseAddrPort("0.0.0.0:2024"), tcpListen},
				{netip.MustParseAddrPort("127.0.0.1:19999"), 1},
			},
		},
		{
			name: "ipv6 loopback, any and mapped",
			in: header +
				"   0: 00000000000000000000000001000000:4E1F 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0 0\n" +
				"   1: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0 0\n" +
				"   2: 0000000000000000FFFF00000100007F:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0 0\n",
			want: []socket{
				{netip.MustParseAddrPort("[::1]:19999"), tcpListen},
				{netip.MustParseAddrPort("[::]:22"), tcpListen},
				{netip.MustParseAddrPort("127.0.0.1:22"), tcpListen},
			},
		},
		{name: "header only", in: header},
		{name: "bad address", in: header + "   0: 0100007:4E1F 00000000:0000 0A\n", wantErr: true},
		{name: "no port", in: header + "   0: 0100007F 00000000:0000 0A\n", wantErr: true},
		{name: "short line", in: header + "   0: 0100007F:4E1F\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseProcNetTCP(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseProcNetTCP() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("parseProcNetTCP() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// recordTB stands in for *testing.T where Start must stop the test: it
// records the outcome and unwinds with a panic the test recovers.
type recordTB struct {
	testing.TB
	outcome string
}

type stopped struct{}

func (r *recordTB) Helper() {}
func (r *recordTB) Fatalf(format string, args ...any) {
	r.outcome = "fatal: " + fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (r *recordTB) Skipf(format string, args ...any) {
	r.outcome = "skip: " + fmt.Sprintf(format, args...)
	panic(stopped{})
}

func TestStartWithoutNetdata(t *testing.T) {
	tests := []struct {
		ci   string
		want string
	}{
		{ci: "true", want: "fatal: "},
		{ci: "", want: "skip: "},
		{ci: "false", want: "skip: "},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recordTB{TB: t}
			func() {
				defer func() {
					if v := recover(); v != nil {
						if _, ok := v.(stopped); !ok {
							panic(v)
						}
					}
				}()
				Start(r, Options{Binary: filepath.Join(t.TempDir(), "no-netdata")})
			}()
			if !strings.HasPrefix(r.outcome, tt.want) || !strings.Contains(r.outcome, "no-netdata") {
				t.Errorf("Start() without netdata: %q, want it to start with %q and name the binary", r.outcome, tt.want)
			}
		})
	}
}

// TestProcNetDev: Netdata's own network collector reads the file it is
// given in place of /proc/net/dev, rewound and read again every second,
// as a Driver's mirror rewrites it.
func TestProcNetDev(t *testing.T) {
	proctest.SkipShort(t, "starts a real Netdata")
	t.Parallel()
	// Counters current at every read (no refresh clock of their own), so
	// that every point is the rate itself: 1,250,000 B/s is 10,000 kbit/s.
	d, err := netdevtest.NewDriver(netdevtest.DriverOptions{Dir: t.TempDir(), Ifaces: []netdevtest.DriverIface{
		{Name: "ndt0", Ifindex: 2, Rx: netdevtest.Constant(1_250_000), Tx: netdevtest.Constant(125_000)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := Start(t, Options{ProcNetDev: d.Render(d.Now())})
	if n.ProcNetDev() == "" {
		t.Fatal("ProcNetDev() is empty")
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	mirrored := make(chan error, 1)
	go func() { mirrored <- d.Mirror(ctx, n.ProcNetDev()) }()
	got, err := n.WaitPoints(ctx, "net.ndt0", "received", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	// Netdata stamps its own reads; the mirror follows the counters
	// within a millisecond, so its points are the rate to a fraction of
	// a percent (1 % allowed, as for the plugins' points above).
	if diff := cmp.Diff(repeat(10_000, 5), got, cmpopts.EquateApprox(0.01, 0)); diff != "" {
		t.Errorf("net.ndt0 received (-want +got):\n%s", diff)
	}
	cancel()
	if err := <-mirrored; err != nil {
		t.Fatal(err)
	}
	if other, err := n.Charts(t.Context()); err == nil {
		for id := range other {
			// system.net is the /proc/net/dev module's total.
			if (strings.HasPrefix(id, "system.") && id != "system.net") || strings.HasPrefix(id, "disk") || strings.HasPrefix(id, "mem.") {
				t.Errorf("chart %s: a proc.plugin module other than /proc/net/dev ran", id)
			}
		}
	}
}
