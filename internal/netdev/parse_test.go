package netdev

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// kline renders one interface line as the kernel does, with the eight
// counters we keep taken from c and the other columns zero.
func kline(name string, c wire.Counters) string {
	b := netdevtest.Format(map[string]wire.Counters{name: c})
	return string(b[len(netdevtest.Header):])
}

var (
	eth0 = wire.Counters{RxBytes: 1000, RxPackets: 10, RxErrors: 1, RxDropped: 2, TxBytes: 2000, TxPackets: 20, TxErrors: 3, TxDropped: 4}
	eth1 = wire.Counters{RxBytes: 5, RxPackets: 1, TxBytes: 6, TxPackets: 1}
)

// hostileCase is one content of /proc/net/dev and what must come of it:
// either a hard error of category wantErr, or the interfaces in want with
// the lines in wantSkipped reported as skipped.
type hostileCase struct {
	name        string
	content     string
	wantErr     error
	want        map[string]wire.Counters
	wantSkipped []int
}

// hostileCases is the one table of /proc/net/dev contents, shared by
// TestReadHostile and seeding FuzzRead.
func hostileCases() []hostileCase {
	h := netdevtest.Header
	good := h + kline("eth0", eth0)
	sixteen := " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"
	return []hostileCase{
		{name: "kernel format", content: good + kline("eth1", eth1),
			want: map[string]wire.Counters{"eth0": eth0, "eth1": eth1}},
		{name: "empty file", content: "", wantErr: ErrFormat},
		{name: "header only", content: h, want: map[string]wire.Counters{}},
		{name: "missing header", content: kline("eth0", eth0) + kline("eth1", eth1), wantErr: ErrFormat},
		{name: "first header line only", content: strings.SplitAfter(h, "\n")[0] + kline("eth0", eth0), wantErr: ErrFormat},
		{name: "truncated line", content: good + "  eth1:     5       1    0\n" + kline("eth2", eth1),
			want: map[string]wire.Counters{"eth0": eth0, "eth2": eth1}, wantSkipped: []int{4}},
		{name: "truncated last line without newline", content: good + strings.TrimSuffix(kline("eth1", eth1), "\n")[:40],
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "garbage number", content: good + "eth1: 12a" + sixteen[3:] + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "negative", content: good + "eth1: -5" + sixteen[2:] + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "plus sign", content: good + "eth1: +5" + sixteen[2:] + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "2^64 overflows", content: good + "eth1: 18446744073709551616" + sixteen[2:] + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "2^64-1 fits", content: h + "eth1: 18446744073709551615" + sixteen[2:] + "\n",
			want: map[string]wire.Counters{"eth1": {RxBytes: 1<<64 - 1, RxPackets: 2, RxErrors: 3, RxDropped: 4, TxBytes: 9, TxPackets: 10, TxErrors: 11, TxDropped: 12}}},
		{name: "binary junk", content: "\x00\xff\xfe\x01junk\x00\n\x7f\x80:\x00\n\xde\xad", wantErr: ErrFormat},
		{name: "binary junk after header", content: good + "\x00\xff:\x01\x02\n\xde\xad\xbe\xef\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4, 5}},
		{name: "line without colon", content: good + "eth1" + sixteen + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "empty name", content: good + ":" + sixteen + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "name with space", content: good + "eth 1:" + sixteen + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "dot-dot name", content: good + "..:" + sixteen + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "invalid UTF-8 name", content: good + "eth\xff:" + sixteen + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "duplicate interface drops both", content: good + kline("eth1", eth1) + kline("eth0", eth1),
			want: map[string]wire.Counters{"eth1": eth1}, wantSkipped: []int{5}},
		{name: "extra column", content: good + "eth1:" + sixteen + " 17\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "two lines run together", content: good + strings.TrimSuffix(kline("eth1", eth1), "\n") + kline("eth2", eth1),
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "blank lines and CRLF", content: strings.ReplaceAll(good+"\n   \n"+kline("eth1", eth1), "\n", "\r\n"),
			want: map[string]wire.Counters{"eth0": eth0, "eth1": eth1}},
		{name: "names that break naive code", content: h + kline("eth0.10", eth0) + kline("pppoe-wan", eth1) +
			kline("wlan0-1", eth0) + kline("br-lan", eth1) + kline("💩0", eth0) + kline("eth0:1", eth1) +
			kline("averylongname15", eth0) + "ibr10:30:" + sixteen + "\n",
			want: map[string]wire.Counters{"eth0.10": eth0, "pppoe-wan": eth1, "wlan0-1": eth0, "br-lan": eth1,
				"💩0": eth0, "eth0:1": eth1, "averylongname15": eth0,
				"ibr10:30": {RxBytes: 1, RxPackets: 2, RxErrors: 3, RxDropped: 4, TxBytes: 9, TxPackets: 10, TxErrors: 11, TxDropped: 12}}},
		{name: "old kernel without space after colon", content: h + "  eth0:12345678 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
			want: map[string]wire.Counters{"eth0": {RxBytes: 12345678, RxPackets: 1, RxErrors: 2, RxDropped: 3, TxBytes: 8, TxPackets: 9, TxErrors: 10, TxDropped: 11}}},
		{name: "one 100 KB line", content: good + "eth1:" + strings.Repeat(" 1", 50_000) + "\n",
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4}},
		{name: "many bad lines are capped", content: good + strings.Repeat("x\n", 20),
			want: map[string]wire.Counters{"eth0": eth0}, wantSkipped: []int{4, 5, 6, 7, 8, 9, 10, 11}},
		{name: "5 MB", content: good + strings.Repeat(kline("eth9", eth1), 5<<20/len(kline("eth9", eth1))+1), wantErr: ErrTooLarge},
	}
}

// skippedLines returns the line numbers of the *LineErrors in err.
func skippedLines(t *testing.T, err error) []int {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var lines []int
	for _, e := range errs {
		if !errors.Is(e, ErrBadLine) {
			t.Errorf("skipped error %v does not wrap ErrBadLine", e)
		}
		if le, ok := e.(*LineError); ok {
			lines = append(lines, le.Line)
		}
	}
	return lines
}

func TestLineErrorMessage(t *testing.T) {
	t.Parallel()
	tr := netdevtest.NewTree(t)
	tr.WriteRaw(netdevtest.Header + "  eth1: 5 x\n")
	snap, err := newReader(t, Options{ProcRoot: tr.ProcRoot(), SysRoot: tr.SysRoot()}).Read()
	if err != nil {
		t.Fatal(err)
	}
	want := `line 3 ("eth1"): bad /proc/net/dev line: column 2: "x" is not a uint64`
	if snap.Skipped == nil || snap.Skipped.Error() != want {
		t.Errorf("Read().Skipped = %v, want %s", snap.Skipped, want)
	}
}

// FuzzRead reads arbitrary file contents with a fresh Reader selecting
// every name: a read either fails with ErrFormat or ErrTooLarge and returns
// nothing, or returns only valid names whose counters, printed as the
// kernel would, read back the same with nothing skipped.
func FuzzRead(f *testing.F) {
	for _, tt := range hostileCases() {
		if len(tt.content) < 64<<10 {
			f.Add([]byte(tt.content))
		}
	}
	sel, err := NewSelector([]string{"*"})
	if err != nil {
		f.Fatal(err)
	}
	// One tree for all inputs (a worker runs its inputs one at a time),
	// written directly: netdevtest's Tree belongs to one test.
	dir := f.TempDir()
	proc, sys := filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
	for _, d := range []string{filepath.Join(proc, "net"), filepath.Join(sys, "class", "net")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(content []byte) (Snapshot, error) {
			if err := os.WriteFile(filepath.Join(proc, "net", "dev"), content, 0o644); err != nil {
				t.Fatal(err)
			}
			return newReader(t, Options{ProcRoot: proc, SysRoot: sys, Select: sel}).Read()
		}
		snap, err := read(data)
		if err != nil {
			if snap.Ifaces != nil || snap.Skipped != nil {
				t.Fatalf("Read() = %v, %v with error %v", snap.Ifaces, snap.Skipped, err)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Read() error %v is neither ErrFormat nor ErrTooLarge", err)
			}
			return
		}
		for name := range snap.Ifaces {
			if !wire.ValidIface(name) || name == "." || name == ".." {
				t.Fatalf("Read() returned invalid name %q", name)
			}
		}
		skippedLines(t, snap.Skipped)
		// The map is the Reader's: copy it before the next read.
		got := maps.Clone(snap.Ifaces)
		again, err := read(netdevtest.Format(got))
		if err != nil || again.Skipped != nil {
			t.Fatalf("re-read of %v: skipped %v, error %v", got, again.Skipped, err)
		}
		if diff := cmp.Diff(got, again.Ifaces); diff != "" {
			t.Fatalf("re-read differs (-first +again):\n%s", diff)
		}
	})
}

func TestParseUint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"42", 42, true},
		{"999999999", 999_999_999, true}, // the 32-bit loop's last digit
		{"1000000000", 1_000_000_000, true},
		{"4294967295", 1<<32 - 1, true},
		{"4294967296", 1 << 32, true},
		{"389114425016", 389_114_425_016, true},
		{"12345678x", 0, false},
		{"1234567890x", 0, false},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, // overflows in the last addition
		{"18446744073709551620", 0, false}, // too large before the last multiplication
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"1e3", 0, false},
		{"０", 0, false}, // fullwidth digit
	}
	for _, tt := range tests {
		got, ok := parseUint([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseUint(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	// Every value near the overflow boundary agrees with fmt.
	for d := uint64(0); d < 20; d++ {
		v := uint64(1<<64-1) - d
		if got, ok := parseUint([]byte(fmt.Sprint(v))); !ok || got != v {
			t.Errorf("parseUint(%d) = %d, %v", v, got, ok)
		}
	}
}

// parseRecord is everything a parse hands on: each visit and the
// skipped lines' errors.
type parseRecord struct {
	Visits  []string
	Skipped string
	Err     string
}

func recordParse(p *lineParser, b []byte) parseRecord {
	var r parseRecord
	err := p.parse(b, func(name []byte, c wire.Counters, line int) {
		r.Visits = append(r.Visits, fmt.Sprintf("%d %q %+v", line, name, c))
	})
	if err != nil {
		r.Err = err.Error()
	}
	if s := p.skipped(); s != nil {
		r.Skipped = s.Error()
	}
	return r
}

// TestParseReusesLines: a parser that reuses the lines unchanged since
// its last parse hands on exactly what a fresh one does, over a sequence
// of reads in which counters move, interfaces come and go, lines turn
// bad and good again, and the order changes.
func TestParseReusesLines(t *testing.T) {
	t.Parallel()
	var cases []string
	for _, tt := range hostileCases() {
		if len(tt.content) < 64<<10 {
			cases = append(cases, tt.content)
		}
	}
	names := []string{"lo", "eth0", "eth0.10", "pppoe-wan", "br-lan", "eth0:1", "wlan0-1", "💩0"}
	cur := map[string]wire.Counters{}
	for i, n := range names {
		cur[n] = wire.Counters{RxBytes: uint64(i) << 33, RxPackets: uint64(i), TxBytes: 999_999_999, TxPackets: 7}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		switch rng.IntN(6) {
		case 0: // a refresh: every counter moves
			for n, c := range cur {
				c.RxBytes += rng.Uint64N(1 << 20)
				c.TxPackets++
				cur[n] = c
			}
		case 1: // one interface moves
			n := names[rng.IntN(len(names))]
			if c, ok := cur[n]; ok {
				c.RxBytes += 1 + rng.Uint64N(1000)
				cur[n] = c
			}
		case 2: // one comes or goes
			n := names[rng.IntN(len(names))]
			if _, ok := cur[n]; ok {
				delete(cur, n)
			} else {
				cur[n] = wire.Counters{RxBytes: rng.Uint64()}
			}
		}
		b := string(netdevtest.Format(cur))
		switch rng.IntN(8) {
		case 0: // a bad line somewhere
			lines := strings.SplitAfter(b, "\n")
			k := 2 + rng.IntN(len(lines)-1)
			lines = append(lines[:k], append([]string{"  bad: 1 2 x\n"}, lines[k:]...)...)
			b = strings.Join(lines, "")
		case 1: // lines in another order (a re-created interface)
			lines := strings.SplitAfter(b, "\n")
			body := lines[2:]
			rng.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
			b = strings.Join(lines, "")
		case 2: // a hostile file
			b = cases[rng.IntN(len(cases))]
		}
		cases = append(cases, b)
	}
	var reused lineParser
	for i, b := range cases {
		got, want := recordParse(&reused, []byte(b)), recordParse(new(lineParser), []byte(b))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("read %d: reusing lines differs (-fresh +reused):\n%s\ncontent:\n%s", i, diff, b)
		}
	}
}

// FuzzParseReusesLines: after any first read, a second read parses as it
// would alone.
func FuzzParseReusesLines(f *testing.F) {
	cases := hostileCases()
	for i, tt := range cases {
		if len(tt.content) < 64<<10 {
			f.Add([]byte(tt.content), []byte(cases[(i+1)%len(cases)].content))
			f.Add([]byte(tt.content), []byte(strings.Replace(tt.content, "1", "2", 1)))
		}
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var p lineParser
		recordParse(&p, first)
		got, want := recordParse(&p, second), recordParse(new(lineParser), second)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("after %q, %q parses differently (-alone +after):\n%s", first, second, diff)
		}
	})
}
