package netdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func TestParseStdinLine(t *testing.T) {
	tx := "0b2c1e9a-7a1c-11ed-9b6a-0242ac120002"
	for _, c := range []struct {
		line string
		kind string
		call FunctionCall
		bad  bool
	}{
		{line: "FUNCTION " + tx + " 10 \"ifstat-routers\"\n", kind: LineFunction, call: FunctionCall{Transaction: tx, Timeout: 10 * time.Second, Name: "ifstat-routers", Args: []string{}}},
		{line: "FUNCTION " + tx + " 5 \"ifstat-routers help\"", kind: LineFunction, call: FunctionCall{Transaction: tx, Timeout: 5 * time.Second, Name: "ifstat-routers", Args: []string{"help"}}},
		{line: "FUNCTION tx 10 'other  a b'\r\n", kind: LineFunction, call: FunctionCall{Transaction: "tx", Timeout: 10 * time.Second, Name: "other", Args: []string{"a", "b"}}},
		// Netdata 2.x appends access and source.
		{line: "FUNCTION tx 10 \"ifstat-routers\" \"0x0013\" \"method=api\"", kind: LineFunction, call: FunctionCall{Transaction: "tx", Timeout: 10 * time.Second, Name: "ifstat-routers", Args: []string{}}},
		{line: "\n", kind: LineEmpty},
		{line: "   \t ", kind: LineEmpty},
		{line: "QUIT\n", kind: LineQuit},
		{line: "FUNCTION_CANCEL tx", kind: LineOther},
		{line: "QUIT now", bad: true},
		{line: "HELLO", bad: true},
		{line: "function tx 10 \"x\"", bad: true},
		{line: "FUNCTION", bad: true},
		{line: "FUNCTION tx 10", bad: true},
		{line: "FUNCTION tx 10 \"\"", bad: true},
		{line: "FUNCTION tx 10 \"   \"", bad: true},
		{line: "FUNCTION tx 0 \"x\"", bad: true},
		{line: "FUNCTION tx -1 \"x\"", bad: true},
		{line: "FUNCTION tx 10s \"x\"", bad: true},
		{line: "FUNCTION tx 99999999999999999999 \"x\"", bad: true},
		{line: "FUNCTION 'a b' 10 \"x\"", bad: true},
		{line: "FUNCTION tx\x00 10 \"x\"", bad: true},
		{line: "FUNCTION tx;rm 10 \"x\"", bad: true},
		{line: "FUNCTION " + strings.Repeat("a", 201) + " 10 \"x\"", bad: true},
		{line: "FUNCTION tx 10 \"x", bad: true},
		{line: "FUNCTION tx 10 \"x\ny\"", bad: true},
		{line: "FUNCTION tx 10 \"x\" " + strings.Repeat("w ", 30), bad: true},
		{line: "\xff\xfe", bad: true},
		{line: "FUNCTION tx 10 \"ifstat-routers\" a b c d e", bad: true},
	} {
		kind, call, err := ParseStdinLine(c.line)
		if c.bad {
			if err == nil || !errors.Is(err, errStdinLine) {
				t.Errorf("%q: kind %q, err %v; want an errStdinLine", c.line, kind, err)
			}
			continue
		}
		if err != nil || kind != c.kind {
			t.Errorf("%q: kind %q, err %v; want %q", c.line, kind, err, c.kind)
			continue
		}
		if call.Transaction != c.call.Transaction || call.Timeout != c.call.Timeout || call.Name != c.call.Name || strings.Join(call.Args, "|") != strings.Join(c.call.Args, "|") {
			t.Errorf("%q: call %+v, want %+v", c.line, call, c.call)
		}
	}
}

// FuzzParseStdinLine: no input panics, and an accepted call's transaction
// is one FunctionResult writes back.
func FuzzParseStdinLine(f *testing.F) {
	f.Add("FUNCTION tx 10 \"ifstat-routers help\"")
	f.Add("QUIT")
	f.Add("FUNCTION 'a' '1' 'b'")
	f.Fuzz(func(t *testing.T, line string) {
		kind, call, err := ParseStdinLine(line)
		if err == nil && kind == LineFunction && (!validWord(call.Transaction) || call.Name == "" || call.Timeout <= 0) {
			t.Fatalf("%q: accepted %+v", line, call)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the log hook and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestFunctionOutput(t *testing.T, version string) (*FunctionOutput, *bytes.Buffer, *syncBuffer) {
	t.Helper()
	var out bytes.Buffer
	logs := &syncBuffer{}
	l := logrus.New()
	l.SetOutput(logs)
	l.SetLevel(logrus.DebugLevel)
	return NewFunctionOutput(&out, version, time.Second, logrus.NewEntry(l)), &out, logs
}

// result is one FUNCTION_RESULT_BEGIN … FUNCTION_RESULT_END block.
type result struct {
	tx, code, ctype, expires string
	body                     string
}

// parseResults splits plugin output into its function results and the
// other lines, checking that every result is closed.
func parseResults(t *testing.T, out string) (results []result, other []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		f := strings.Fields(lines[i])
		if len(f) == 0 || f[0] != "FUNCTION_RESULT_BEGIN" {
			other = append(other, lines[i])
			continue
		}
		if len(f) != 5 {
			t.Fatalf("line %q: want 5 words", lines[i])
		}
		r := result{tx: f[1], code: f[2], ctype: strings.Trim(f[3], "'"), expires: f[4]}
		var body []string
		for i++; i < len(lines) && lines[i] != "FUNCTION_RESULT_END"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("no FUNCTION_RESULT_END in %q", out)
		}
		r.body = strings.Join(body, "\n")
		results = append(results, r)
	}
	return results, other
}

// functionTable is the JSON table of the function, as a client reads it.
type functionTable struct {
	Status  int     `json:"status"`
	Type    string  `json:"type"`
	Data    [][]any `json:"data"`
	Columns map[string]struct {
		Index int    `json:"index"`
		Name  string `json:"name"`
	} `json:"columns"`
}

// row returns the row of router node as column key → value.
func (ft functionTable) row(node string) map[string]any {
	for _, r := range ft.Data {
		if len(r) > 0 && r[0] == node {
			m := map[string]any{}
			for k, c := range ft.Columns {
				if c.Index < len(r) {
					m[k] = r[c.Index]
				}
			}
			return m
		}
	}
	return nil
}

func TestFunctionOutput(t *testing.T) {
	o, out, logs := newTestFunctionOutput(t, "v1.37.1")
	s := bridge.NewSampler(bridge.SamplerConfig{Interval: time.Second})
	s.Status("er-x", true)
	s.Status("gone", false)
	o.SetSampler(s)
	t0 := time.Unix(1_800_000_000, 0)
	o.now = func() time.Time { return t0 }

	// Before any call: the function is advertised once.
	if err := o.Keepalive(t0); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "FUNCTION GLOBAL 'ifstat-routers' 10 'ifstat routers: status, age of the last reply, counter refresh periods and warnings'\n"; got != want {
		t.Fatalf("advertisement %q, want %q", got, want)
	}
	out.Reset()

	reply := &wire.Reply{Node: "er-x"}
	if err := o.Emit(&bridge.NodeSample{Node: "er-x", Reply: reply, Ifaces: []bridge.IfaceSample{
		{Name: "eth0", Refresh: refresh.Estimate{PeriodNS: 1e9}, TooCoarse: true},
		{Name: "wg0", Refresh: refresh.Estimate{AtMostNS: 5e8}},
	}}, t0.Add(-1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_ = o.Emit(&bridge.NodeSample{Node: "gone", Gap: true}, t0)
	}
	stdin := "FUNCTION tx1 10 \"ifstat-routers\"\n" +
		"garbage line\n" +
		"FUNCTION tx2 10 \"ifstat-routers help\"\n" +
		"FUNCTION tx3 10 \"processes\"\n" +
		"FUNCTION tx4 10 \"ifstat-routers --all\"\n"
	o.Serve(strings.NewReader(stdin), nil)
	if err := o.Tick(t0, t0); err != nil {
		t.Fatal(err)
	}
	results, other := parseResults(t, out.String())
	if len(other) != 0 {
		t.Errorf("lines outside results: %q", other)
	}
	if len(results) != 4 {
		t.Fatalf("%d results, want 4:\n%s", len(results), out.String())
	}
	r := results[0]
	if r.tx != "tx1" || r.code != "200" || r.ctype != "application/json" || r.expires != "1800000001" {
		t.Errorf("result header %+v", r)
	}
	t.Logf("answer: %s", r.body)
	var ft functionTable
	if err := json.Unmarshal([]byte(r.body), &ft); err != nil {
		t.Fatalf("table: %v\n%s", err, r.body)
	}
	if ft.Status != 200 || ft.Type != "table" || len(ft.Columns) != 8 || len(ft.Data) != 2 {
		t.Errorf("table %+v", ft)
	}
	er := ft.row("er-x")
	if er["Status"] != StatusOnline || er["LastReply"] != 1.5 || er["Interval"] != 1000.0 || er["Interfaces"] != "eth0, wg0" ||
		er["Refresh"] != "eth0 1000 ms, wg0 ≤ 500 ms" || !strings.Contains(er["Warnings"].(string), "eth0: the interval (1s) is shorter") {
		t.Errorf("er-x row %v", er)
	}
	gone := ft.row("gone")
	if gone["Status"] != StatusOffline || gone["LastReply"] != nil || !strings.Contains(gone["Warnings"].(string), "offline") {
		t.Errorf("gone row %v", gone)
	}
	if r := results[1]; r.tx != "tx2" || r.code != "200" || r.ctype != "text/plain" || !strings.Contains(r.body, "ifstat-routers") {
		t.Errorf("help result %+v", r)
	}
	if r := results[2]; r.tx != "tx3" || r.code != "404" || !strings.Contains(r.body, `"status":404`) {
		t.Errorf("unknown function result %+v", r)
	}
	if r := results[3]; r.tx != "tx4" || r.code != "400" {
		t.Errorf("bad arguments result %+v", r)
	}
	if !strings.Contains(logs.String(), "ignoring a line on stdin") {
		t.Errorf("the garbage line was not logged:\n%s", logs.String())
	}

	// Calls that waited longer than their timeout are not answered.
	out.Reset()
	o.Serve(strings.NewReader("FUNCTION late 1 \"ifstat-routers\"\n"), nil)
	if err := o.Tick(t0.Add(2*time.Second), t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("answered a timed-out call: %q", out.String())
	}
}

// TestFunctionOutputHostileStdin: floods of garbage, overlong lines, binary
// data and too many calls are ignored, logged at most a few times, and
// never panic; QUIT is passed on.
func TestFunctionOutputHostileStdin(t *testing.T) {
	o, out, logs := newTestFunctionOutput(t, "v1.37.1")
	var in strings.Builder
	for i := 0; i < 1000; i++ {
		in.WriteString("NOT A KEYWORD\n\x00\x01\x02\n")
	}
	in.WriteString(strings.Repeat("x", 100_000) + "\n")
	in.WriteString("FUNCTION ok 10 \"ifstat-routers\"\n")
	for i := 0; i < 2*functionQueue; i++ {
		in.WriteString("FUNCTION flood 10 \"ifstat-routers\"\n")
	}
	in.WriteString("QUIT\nFUNCTION tail 10 \"ifstat-routers") // no newline at the end
	quits := 0
	o.Serve(strings.NewReader(in.String()), func() { quits++ })
	if quits != 1 {
		t.Errorf("QUIT seen %d times, want 1", quits)
	}
	if n := strings.Count(logs.String(), "\n"); n > 20 {
		t.Errorf("%d log lines for a flood, want a few:\n%s", n, logs.String())
	}
	if err := o.Tick(time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	results, _ := parseResults(t, out.String())
	if len(results) != functionQueue || results[0].tx != "ok" {
		t.Errorf("%d results (first %+v), want %d starting with ok", len(results), results[0], functionQueue)
	}
}

// TestFunctionOutputOldNetdata: a Netdata before 1.37 (or none) is offered
// nothing; a call is ignored.
func TestFunctionOutputOldNetdata(t *testing.T) {
	for _, v := range []string{"", "v1.36.1"} {
		o, out, _ := newTestFunctionOutput(t, v)
		o.Serve(strings.NewReader("FUNCTION tx 10 \"ifstat-routers\"\n"), nil)
		if err := o.Keepalive(time.Now()); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || o.Enabled() {
			t.Errorf("version %q: wrote %q", v, out.String())
		}
	}
}

// failWriter fails every write, as a closed stdout does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestFunctionOutputWriteError(t *testing.T) {
	o := NewFunctionOutput(failWriter{}, "v1.37.1", time.Second, logrus.NewEntry(logrus.New()))
	if err := o.Keepalive(time.Now()); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("err %v, want the closed pipe", err)
	}
}

// TestFunctionOutputInterfaces: the table lists the interfaces of the last
// reply in its order, keeps a refresh period until a new one is known,
// also for an interface the last reply did not list, and forgets it with
// an obsolete interface.
func TestFunctionOutputInterfaces(t *testing.T) {
	t.Parallel()
	o, _, _ := newTestFunctionOutput(t, "v1.37.1")
	t0 := time.Unix(1_800_000_000, 0)
	type row struct{ Interfaces, Refresh, Warnings string }
	period := func(ns int64) refresh.Estimate { return refresh.Estimate{PeriodNS: ns} }
	atMost := func(ns int64) refresh.Estimate { return refresh.Estimate{AtMostNS: ns} }
	coarse := "the interval (1s) is shorter than its counters' refresh period"
	for i, tt := range []struct {
		name   string
		gap    bool
		ifaces []bridge.IfaceSample
		want   row
	}{
		{"first reply", false, []bridge.IfaceSample{
			{Name: "eth0", Refresh: period(1e9), TooCoarse: true},
			{Name: "wg0", Refresh: atMost(5e8)},
			{Name: "wlan0"},
		}, row{"eth0, wg0, wlan0", "eth0 1000 ms, wg0 ≤ 500 ms", "eth0: " + coarse + " (1000 ms): rates cover whole refreshes"}},
		{"periods kept, one new interface", false, []bridge.IfaceSample{
			{Name: "br-lan", Refresh: atMost(5e7)},
			{Name: "eth0"},
			{Name: "wg0", Absent: true},
			{Name: "wlan0", Refresh: period(2e9)},
		}, row{"br-lan, eth0, wg0, wlan0", "br-lan ≤ 50 ms, eth0 1000 ms, wg0 ≤ 500 ms, wlan0 2000 ms", "wg0: missing from the last reply"}},
		{"bound replaced by a period", false, []bridge.IfaceSample{
			{Name: "br-lan", Refresh: period(976_563_000)},
			{Name: "eth0"},
			{Name: "wg0", Obsolete: true},
		}, row{"br-lan, eth0", "br-lan 976.6 ms, eth0 1000 ms", ""}},
		{"a gap changes nothing", true, nil, row{"br-lan, eth0", "br-lan 976.6 ms, eth0 1000 ms", ""}},
		{"unlisted keeps its period, obsolete forgets", false, []bridge.IfaceSample{
			{Name: "eth0", Refresh: atMost(2e8)},
			{Name: "lo", TooCoarse: true},
			{Name: "wg0"},
			{Name: "wlan0"},
		}, row{"eth0, lo, wg0, wlan0", "eth0 ≤ 200 ms, wlan0 2000 ms", "lo: " + coarse + " (): rates cover whole refreshes"}},
	} {
		ns := &bridge.NodeSample{Node: "er-x", Gap: tt.gap, Reply: &wire.Reply{Node: "er-x"}, Ifaces: tt.ifaces}
		if err := o.Emit(ns, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		var ft functionTable
		if err := json.Unmarshal(o.table(t0.Add(10*time.Second)), &ft); err != nil {
			t.Fatal(err)
		}
		r := ft.row("er-x")
		got := row{r["Interfaces"].(string), r["Refresh"].(string), r["Warnings"].(string)}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("after %q: row (-want +got):\n%s", tt.name, diff)
		}
	}
}
