package plugind

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"
)

const testGUID = "0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0"

var allFeatures = Features{VirtualNodes: true, FloatDims: true, TrustDurations: true}

func TestKeywords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Features
		call func(w *Writer) error
		want string
	}{
		{
			name: "chart all fields",
			call: func(w *Writer) error {
				w.Chart(ChartOpts{
					Type: "ifstat_er-x", ID: "eth0_net", Name: "eth0 bandwidth", Title: "Bandwidth",
					Units: "kilobits/s", Family: "eth0", Context: "ifstat.net", ChartType: ChartArea,
					Priority: 7000, UpdateEvery: 1, Options: "store_first", Plugin: "ifstat", Module: "mqtt",
				})
				return nil
			},
			want: "CHART 'ifstat_er-x.eth0_net' 'eth0 bandwidth' 'Bandwidth' 'kilobits/s' 'eth0' 'ifstat.net' 'area' 7000 1 'store_first' 'ifstat' 'mqtt'\n",
		},
		{
			name: "chart defaults",
			call: func(w *Writer) error { w.Chart(ChartOpts{Type: "t", ID: "i"}); return nil },
			want: "CHART 't.i' '' '' '' '' '' 'line' 1000 0 '' '' ''\n",
		},
		{
			name: "chart negative numbers",
			call: func(w *Writer) error {
				w.Chart(ChartOpts{Type: "t", ID: "i", Priority: -5, UpdateEvery: -1})
				return nil
			},
			want: "CHART 't.i' '' '' '' '' '' 'line' 1000 0 '' '' ''\n",
		},
		{
			name: "chart hostile ids",
			call: func(w *Writer) error {
				w.Chart(ChartOpts{Type: "if stat.er'x", ID: "Gi0/1:rx 'a'", Title: "x"})
				return nil
			},
			want: "CHART 'if_stat_er_x.Gi0_1_rx__a_' '' 'x' '' '' '' 'line' 1000 0 '' '' ''\n",
		},
		{
			name: "chart hostile text",
			call: func(w *Writer) error {
				w.Chart(ChartOpts{Type: "t", ID: "i", Title: "a'b\"c\\d\ne\tf=g\x00h\xffi é", Family: "eth0\r\nEND"})
				return nil
			},
			want: "CHART 't.i' '' 'abcd e f=g hi é' '' 'eth0  END' '' 'line' 1000 0 '' '' ''\n",
		},
		{
			name: "dimension sent negative",
			call: func(w *Writer) error {
				w.Dimension(DimensionOpts{ID: "sent", Name: "sent", Algorithm: AlgAbsolute, Multiplier: -1, Divisor: 1000})
				return nil
			},
			want: "DIMENSION 'sent' 'sent' 'absolute' -1 1000 ''\n",
		},
		{
			name: "dimension defaults",
			call: func(w *Writer) error { w.Dimension(DimensionOpts{ID: "rx"}); return nil },
			want: "DIMENSION 'rx' '' 'absolute' 1 1 ''\n",
		},
		{
			name: "dimension incremental with options",
			call: func(w *Writer) error {
				w.Dimension(DimensionOpts{ID: "rx bytes", Name: "received", Algorithm: AlgIncremental, Multiplier: 8, Divisor: 1000, Options: "hidden noreset"})
				return nil
			},
			want: "DIMENSION 'rx_bytes' 'received' 'incremental' 8 1000 'hidden noreset'\n",
		},
		{
			name: "clabel",
			call: func(w *Writer) error { w.CLabel("interface", "eth0 'wan'", LabelSourceAuto); return nil },
			want: "CLABEL 'interface' 'eth0 wan' 1\n",
		},
		{
			name: "clabel hostile name",
			call: func(w *Writer) error { w.CLabel("my label\n", "v\nCLABEL_COMMIT", LabelSourceManual); return nil },
			want: "CLABEL 'my_label_' 'v CLABEL_COMMIT' 2\n",
		},
		{
			name: "clabel commit",
			call: func(w *Writer) error { w.CLabelCommit(); return nil },
			want: "CLABEL_COMMIT\n",
		},
		{
			name: "begin first round",
			call: func(w *Writer) error { w.Begin("ifstat_er-x.eth0_net", 0); return nil },
			want: "BEGIN 'ifstat_er-x.eth0_net'\n",
		},
		{
			name: "begin negative since",
			call: func(w *Writer) error { w.Begin("a.b", -time.Second); return nil },
			want: "BEGIN 'a.b'\n",
		},
		{
			name: "begin sub-microsecond since",
			call: func(w *Writer) error { w.Begin("a.b", 999*time.Nanosecond); return nil },
			want: "BEGIN 'a.b'\n",
		},
		{
			name: "begin microseconds truncated",
			call: func(w *Writer) error { w.Begin("a.b", time.Second+123456789*time.Nanosecond); return nil },
			want: "BEGIN 'a.b' 1123456\n",
		},
		{
			name: "begin sanitises like chart",
			call: func(w *Writer) error { w.Begin("if stat.Gi0/1.x", time.Millisecond); return nil },
			want: "BEGIN 'if_stat.Gi0_1.x' 1000\n",
		},
		{
			name: "set",
			call: func(w *Writer) error { w.Set("received", 1234567); return nil },
			want: "SET 'received' = 1234567\n",
		},
		{
			name: "set zero",
			call: func(w *Writer) error { w.Set("received", 0); return nil },
			want: "SET 'received' = 0\n",
		},
		{
			name: "set eight is not octal",
			call: func(w *Writer) error { w.Set("x", 8); return nil },
			want: "SET 'x' = 8\n",
		},
		{
			name: "set negative",
			call: func(w *Writer) error { w.Set("x", -42); return nil },
			want: "SET 'x' = -42\n",
		},
		{
			name: "set max",
			call: func(w *Writer) error { w.Set("x", 1<<63-1); return nil },
			want: "SET 'x' = 9223372036854775807\n",
		},
		{
			name: "set empty",
			call: func(w *Writer) error { w.SetEmpty("sent"); return nil },
			want: "SET 'sent' = ''\n",
		},
		{
			name: "end",
			call: func(w *Writer) error { w.End(); return nil },
			want: "END\n",
		},
		{
			name: "variable default scope",
			call: func(w *Writer) error { w.Variable(ScopeDefault, "link speed", 1000); return nil },
			want: "VARIABLE 'link_speed' = 1000\n",
		},
		{
			name: "variable chart scope",
			call: func(w *Writer) error { w.Variable(ScopeChart, "speed_mbps", -1); return nil },
			want: "VARIABLE CHART 'speed_mbps' = -1\n",
		},
		{
			name: "variable unknown scope omitted",
			call: func(w *Writer) error { w.Variable("LOCAL'\nDISABLE", "v", 1); return nil },
			want: "VARIABLE 'v' = 1\n",
		},
		{
			name: "empty line",
			call: func(w *Writer) error { w.EmptyLine(); return nil },
			want: "\n",
		},
		{
			name: "disable",
			call: func(w *Writer) error { w.Disable(); return nil },
			want: "DISABLE\n",
		},
		{
			name: "host define",
			f:    allFeatures,
			call: func(w *Writer) error { return w.HostDefine(testGUID, "er-x 'lab'") },
			want: "HOST_DEFINE '" + testGUID + "' 'er-x lab'\n",
		},
		{
			name: "host label",
			f:    allFeatures,
			call: func(w *Writer) error { return w.HostLabel("_os_name", "EdgeOS\nv2") },
			want: "HOST_LABEL '_os_name' 'EdgeOS v2'\n",
		},
		{
			name: "host define end",
			f:    allFeatures,
			call: func(w *Writer) error { return w.HostDefineEnd() },
			want: "HOST_DEFINE_END\n",
		},
		{
			name: "host",
			f:    allFeatures,
			call: func(w *Writer) error { return w.Host(testGUID) },
			want: "HOST '" + testGUID + "'\n",
		},
		{
			name: "host localhost",
			f:    allFeatures,
			call: func(w *Writer) error { return w.Host("") },
			want: "HOST ''\n",
		},
		{
			name: "trust durations on",
			f:    allFeatures,
			call: func(w *Writer) error { return w.TrustDurations(true) },
			want: "TRUST_DURATIONS 1\n",
		},
		{
			name: "trust durations off",
			f:    allFeatures,
			call: func(w *Writer) error { return w.TrustDurations(false) },
			want: "TRUST_DURATIONS 0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := NewWriter(tt.f)
			if err := tt.call(w); err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(w.Bytes())); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
			if w.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", w.Len(), len(tt.want))
			}
		})
	}
}

// TestUnsupported checks that a Writer for Netdata 1.37 refuses every keyword
// 1.37 does not know and writes nothing for it.
func TestUnsupported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(w *Writer) error
	}{
		{"HostDefine", func(w *Writer) error { return w.HostDefine(testGUID, "er-x") }},
		{"HostLabel", func(w *Writer) error { return w.HostLabel("k", "v") }},
		{"HostDefineEnd", func(w *Writer) error { return w.HostDefineEnd() }},
		{"Host", func(w *Writer) error { return w.Host(testGUID) }},
		{"Host localhost", func(w *Writer) error { return w.Host("") }},
		{"TrustDurations", func(w *Writer) error { return w.TrustDurations(true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := NewWriter(ParseFeatures("v1.37.1"))
			if err := tt.call(w); !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s on 1.37: error = %v, want ErrUnsupported", tt.name, err)
			}
			if w.Len() != 0 {
				t.Errorf("%s on 1.37 wrote %q, want nothing", tt.name, w.Bytes())
			}
		})
	}
}

func TestInvalidGUID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(w *Writer) error
	}{
		{"HostDefine empty", func(w *Writer) error { return w.HostDefine("", "er-x") }},
		{"HostDefine short", func(w *Writer) error { return w.HostDefine("0f1e2d3c-4b5a", "er-x") }},
		{"HostDefine quote", func(w *Writer) error { return w.HostDefine("0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f'", "er-x") }},
		{"Host not hex", func(w *Writer) error { return w.Host("0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1fg") }},
		{"Host localhost word", func(w *Writer) error { return w.Host("localhost") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := NewWriter(allFeatures)
			if err := tt.call(w); !errors.Is(err, ErrInvalidGUID) {
				t.Errorf("error = %v, want ErrInvalidGUID", err)
			}
			if w.Len() != 0 {
				t.Errorf("wrote %q, want nothing", w.Bytes())
			}
		})
	}
}

func TestParseFeatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		want    Features
	}{
		{"", Features{}},
		{"garbage", Features{}},
		{"v", Features{}},
		{"v1", Features{}},
		{"v1.", Features{}},
		{"v-1.50.0", Features{}},
		{"v1.-50", Features{}},
		{"v1.37.1", Features{}},
		{"1.37.1", Features{}},
		{"v1.38.1", Features{}},
		{"v1.39.0", Features{VirtualNodes: true}},
		{"v1.39.0-rc0", Features{VirtualNodes: true}},
		{"1.44.0", Features{VirtualNodes: true}},
		{" v1.47.5 \n", Features{VirtualNodes: true}},
		{"v2.0.0", Features{VirtualNodes: true}},
		{"v2.6.3-36-nightly", Features{VirtualNodes: true}},
		{"v2.7.0-nightly", Features{VirtualNodes: true, TrustDurations: true}},
		{"v2.7.0", Features{VirtualNodes: true, TrustDurations: true}},
		{"v2.9.1", Features{VirtualNodes: true, TrustDurations: true}},
		{"v2.10.0", Features{VirtualNodes: true, FloatDims: true, TrustDurations: true}},
		{"V2.11.2", Features{VirtualNodes: true, FloatDims: true, TrustDurations: true}},
		{"v3.0", Features{VirtualNodes: true, FloatDims: true, TrustDurations: true}},
		{"v99999999999999999999.0", Features{}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, ParseFeatures(tt.version)); diff != "" {
				t.Errorf("ParseFeatures(%q) mismatch (-want +got):\n%s", tt.version, diff)
			}
		})
	}
}

func TestSanitizeID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	tests := []struct {
		in, want string
	}{
		{"", "_"},
		{"eth0", "eth0"},
		{"eth0.10", "eth0.10"},
		{"eth0:1", "eth0_1"},
		{"pppoe-wan", "pppoe-wan"},
		{"Gi0/1", "Gi0_1"},
		{"br lan", "br_lan"},
		{"it's", "it_s"},
		{`a"b\c`, "a_b_c"},
		{"a\nb\x00c", "a_b_c"},
		{"💩0", "_0"},
		{"grüße", "gr__e"},
		{"\xff\xfe", "__"},
		{"SET x = 1", "SET_x___1"},
		{long, long[:MaxIDLen]},
		{strings.Repeat("ü", 300), strings.Repeat("_", MaxIDLen)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := SanitizeID(tt.in); got != tt.want {
				t.Errorf("SanitizeID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTypeID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, id, want string
	}{
		{"plain", "ifstat_er-x", "eth0_net", "ifstat_er-x.eth0_net"},
		{"vlan", "ifstat", "eth0.10_net", "ifstat.eth0.10_net"},
		{"dot in type", "ifstat.er-x", "eth0", "ifstat_er-x.eth0"},
		{"empty", "", "", "_._"},
		{"long type", strings.Repeat("t", 300), "id", strings.Repeat("t", 100) + ".id"},
		{"long id", "t", strings.Repeat("i", 300), "t." + strings.Repeat("i", MaxIDLen-2)},
		{"long both", strings.Repeat("t", 300), strings.Repeat("i", 300), strings.Repeat("t", 100) + "." + strings.Repeat("i", MaxIDLen-101)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := TypeID(tt.typ, tt.id)
			if got != tt.want {
				t.Errorf("TypeID(%q, %q) = %q, want %q", tt.typ, tt.id, got, tt.want)
			}
			if len(got) > MaxIDLen {
				t.Errorf("len(TypeID) = %d, over %d", len(got), MaxIDLen)
			}
			// Begin must name exactly the chart Chart defined.
			w := NewWriter(Features{})
			w.Chart(ChartOpts{Type: tt.typ, ID: tt.id})
			w.Begin(got, 0)
			lines := strings.Split(strings.TrimSuffix(string(w.Bytes()), "\n"), "\n")
			chart, begin := netdataWords(lines[0]), netdataWords(lines[1])
			if chart[1] != got || begin[1] != got {
				t.Errorf("CHART names %q, BEGIN names %q, want both %q", chart[1], begin[1], got)
			}
		})
	}
}

// hostile holds strings that try to end a word or a line, or to be long.
var hostile = []string{
	"", "'", "''", `"`, `\`, `'\`, "a\\", "x' 'y", "\n", "\r\nEND\n", "=", "a = b", "\x00", "\x7f", "\u0085", "\u2028",
	"\xff", "é", "💩", strings.Repeat("'", 5000), strings.Repeat("é", 20000), strings.Repeat("x y ", 10000),
}

// TestHostileFieldsKeepLineShape renders each keyword with every hostile
// string in every field and parses the result as Netdata 1.37 does: one line,
// within the length limit, with the keyword's number of words.
func TestHostileFieldsKeepLineShape(t *testing.T) {
	t.Parallel()
	type keyword struct {
		name  string
		words int
		call  func(w *Writer, s string)
	}
	keywords := []keyword{
		{"CHART", 13, func(w *Writer, s string) {
			w.Chart(ChartOpts{Type: s, ID: s, Name: s, Title: s, Units: s, Family: s, Context: s,
				ChartType: ChartType(s), Options: s, Plugin: s, Module: s})
		}},
		{"DIMENSION", 7, func(w *Writer, s string) {
			w.Dimension(DimensionOpts{ID: s, Name: s, Algorithm: Algorithm(s), Options: s})
		}},
		{"CLABEL", 4, func(w *Writer, s string) { w.CLabel(s, s, 1) }},
		{"BEGIN", 3, func(w *Writer, s string) { w.Begin(s, time.Second) }},
		{"SET", 3, func(w *Writer, s string) { w.Set(s, 1) }},
		{"SET empty", 3, func(w *Writer, s string) { w.SetEmpty(s) }},
		{"VARIABLE", 4, func(w *Writer, s string) { w.Variable(ScopeHost, s, 1) }},
		{"HOST_DEFINE", 3, func(w *Writer, s string) { _ = w.HostDefine(testGUID, s) }},
		{"HOST_LABEL", 3, func(w *Writer, s string) { _ = w.HostLabel(s, s) }},
	}
	const maxLine = 15360 // Netdata 1.37 PLUGINSD_LINE_MAX
	for _, kw := range keywords {
		for i, s := range hostile {
			w := NewWriter(allFeatures)
			kw.call(w, s)
			out := string(w.Bytes())
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Errorf("%s(hostile[%d]) = %q, want exactly one line", kw.name, i, out)
				continue
			}
			if len(out) > maxLine {
				t.Errorf("%s(hostile[%d]) is %d bytes, over %d", kw.name, i, len(out), maxLine)
			}
			if !strings.HasPrefix(out, strings.Fields(kw.name)[0]+" ") {
				t.Errorf("%s(hostile[%d]) = %q, want keyword first", kw.name, i, out)
			}
			if got := len(netdataWords(out)); got != kw.words {
				t.Errorf("%s(hostile[%d]) parses into %d words, want %d: %q", kw.name, i, got, kw.words, out)
			}
		}
	}
}

// netdataWords splits a line as Netdata 1.37's pluginsd_split_words does:
// separators are space, tab, CR, LF and '='; a word that starts with ' or "
// runs to the same quote; a backslash skips the next byte (and stays).
func netdataWords(line string) []string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '=' }
	var words []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return words
		}
		var quote byte
		if line[i] == '\'' || line[i] == '"' {
			quote = line[i]
			i++
		}
		var word []byte
		for i < len(line) {
			c := line[i]
			if c == '\\' && i+1 < len(line) {
				word = append(word, c, line[i+1])
				i += 2
				continue
			}
			if quote != 0 && c == quote {
				quote = 0
				i++
				continue
			}
			if quote == 0 && isSpace(c) {
				break
			}
			word = append(word, c)
			i++
		}
		words = append(words, string(word))
	}
}

func TestNetdataWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want []string
	}{
		{"SET x = 5\n", []string{"SET", "x", "5"}},
		{"SET 'x' = ''\n", []string{"SET", "x", ""}},
		{"CHART 'a.b' '' 'T i t' u\n", []string{"CHART", "a.b", "", "T i t", "u"}},
		{`A 'x\' y'`, []string{"A", `x\' y`}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, netdataWords(tt.line)); diff != "" {
			t.Errorf("netdataWords(%q) mismatch (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestHostGUID(t *testing.T) {
	t.Parallel()
	const machine = "8a795b0c-2311-11ee-a3e4-0242ac120002"
	tests := []struct {
		name, machine, node, want string
	}{
		{"er-x", machine, "er-x", "8ad8305d-18a0-5b9a-9656-7aa3dd383d85"},
		{"upper-case machine guid", strings.ToUpper(machine) + " \n", "er-x", "8ad8305d-18a0-5b9a-9656-7aa3dd383d85"},
		{"other node", machine, "rpi", ""},
		{"other machine", "00000000-2311-11ee-a3e4-0242ac120002", "er-x", ""},
		{"no machine guid", "", "er-x", ""},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := HostGUID(tt.machine, tt.node)
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: HostGUID(%q, %q) = %q, want %q", tt.name, tt.machine, tt.node, got, tt.want)
		}
		if !ValidGUID(got) {
			t.Errorf("%s: HostGUID = %q, not a valid GUID", tt.name, got)
		}
		if got[14] != '5' || !strings.ContainsRune("89ab", rune(got[19])) {
			t.Errorf("%s: HostGUID = %q, want version 5 and RFC 4122 variant", tt.name, got)
		}
		if got != strings.ToLower(got) {
			t.Errorf("%s: HostGUID = %q, want lower case", tt.name, got)
		}
		if other, ok := seen[got]; ok && tt.want == "" {
			t.Errorf("%s: HostGUID = %q, same as %s", tt.name, got, other)
		}
		seen[got] = tt.name
	}
	// ("ab","c") and ("a","bc") must differ.
	if HostGUID("ab", "c") == HostGUID("a", "bc") {
		t.Errorf("HostGUID does not separate machine GUID and node")
	}
}

// fakeOut records the Writes it gets and answers with n and err.
type fakeOut struct {
	writes [][]byte
	n      int // bytes to report; -1 = all
	err    error
}

func (f *fakeOut) Write(p []byte) (int, error) {
	f.writes = append(f.writes, bytes.Clone(p))
	if f.n < 0 {
		return len(p), f.err
	}
	return min(f.n, len(p)), f.err
}

func TestFlush(t *testing.T) {
	t.Parallel()
	errPipe := errors.New("broken pipe")
	tests := []struct {
		name       string
		fill       func(w *Writer)
		out        *fakeOut
		wantErr    error
		wantWrites []string
	}{
		{
			name:       "whole tick in one write",
			fill:       func(w *Writer) { w.Begin("a.b", time.Second); w.Set("x", 1); w.End() },
			out:        &fakeOut{n: -1},
			wantWrites: []string{"BEGIN 'a.b' 1000000\nSET 'x' = 1\nEND\n"},
		},
		{
			name:       "empty buffer writes nothing",
			fill:       func(w *Writer) {},
			out:        &fakeOut{n: -1, err: errPipe},
			wantWrites: nil,
		},
		{
			name:       "short write without error",
			fill:       func(w *Writer) { w.End() },
			out:        &fakeOut{n: 2},
			wantErr:    io.ErrShortWrite,
			wantWrites: []string{"END\n"},
		},
		{
			name:       "write error",
			fill:       func(w *Writer) { w.End() },
			out:        &fakeOut{n: 0, err: errPipe},
			wantErr:    errPipe,
			wantWrites: []string{"END\n"},
		},
		{
			name:       "short write with error keeps the error",
			fill:       func(w *Writer) { w.End() },
			out:        &fakeOut{n: 1, err: errPipe},
			wantErr:    errPipe,
			wantWrites: []string{"END\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := NewWriter(Features{})
			tt.fill(w)
			err := w.Flush(tt.out)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Flush() error = %v, want %v", err, tt.wantErr)
			}
			var got []string
			for _, p := range tt.out.writes {
				got = append(got, string(p))
			}
			if diff := cmp.Diff(tt.wantWrites, got); diff != "" {
				t.Errorf("writes mismatch (-want +got):\n%s", diff)
			}
			if w.Len() != 0 {
				t.Errorf("Len() after Flush = %d, want 0", w.Len())
			}
			// The next tick starts clean and is written on its own.
			w.EmptyLine()
			next := &fakeOut{n: -1}
			if err := w.Flush(next); err != nil {
				t.Fatalf("second Flush() error = %v", err)
			}
			if diff := cmp.Diff([][]byte{[]byte("\n")}, next.writes); diff != "" {
				t.Errorf("second Flush writes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlushErrorMessage(t *testing.T) {
	t.Parallel()
	w := NewWriter(Features{})
	w.End()
	err := w.Flush(&fakeOut{n: 1})
	want := "writing plugins.d output (1 of 4 bytes): short write"
	if err == nil || err.Error() != want {
		t.Errorf("Flush() error = %v, want %q", err, want)
	}
}

// router is a router of the golden example: its node id and interfaces.
type router struct {
	node   string
	ifaces []string
}

var goldenRouters = []router{
	{"er-x", []string{"eth0", "switch0.10"}},
	{"rpi", []string{"wlan0"}},
}

// goldenMachineGUID stands for NETDATA_REGISTRY_UNIQUE_ID.
const goldenMachineGUID = "8a795b0c-2311-11ee-a3e4-0242ac120002"

// chartKind is one of the contract's chart contexts. Values are rates
// computed by the bridge and sent as absolute integers in thousandths of the
// unit (bits/s for kilobits/s, millipackets/s for packets/s), so the divisor
// 1000 restores the unit with three decimals; sent has multiplier -1 and is
// drawn below the axis, as Netdata's own net.net.
type chartKind struct {
	suffix, title, units, context string
	chartType                     ChartType
	priority                      int
}

var chartKinds = []chartKind{
	{"net", "Bandwidth", "kilobits/s", "ifstat.net", ChartArea, 7000},
	{"packets", "Packets", "packets/s", "ifstat.packets", ChartLine, 7001},
	{"errors", "Interface Errors", "errors/s", "ifstat.errors", ChartLine, 7002},
	{"drops", "Interface Drops", "drops/s", "ifstat.drops", ChartLine, 7003},
}

// chartType is the per-router chart type on a Netdata without virtual nodes,
// and the shared one on virtual nodes.
func chartType(vnodes bool, node string) string {
	if vnodes {
		return "ifstat"
	}
	return "ifstat_" + node
}

func defineCharts(w *Writer, vnodes bool, r router) {
	for _, iface := range r.ifaces {
		for _, k := range chartKinds {
			title := k.title
			if !vnodes {
				title += " " + r.node
			}
			w.Chart(ChartOpts{
				Type: chartType(vnodes, r.node), ID: iface + "_" + k.suffix,
				Title: title + " " + iface, Units: k.units, Family: iface, Context: k.context,
				ChartType: k.chartType, Priority: k.priority, UpdateEvery: 1, Plugin: "ifstat", Module: "mqtt",
			})
			w.Dimension(DimensionOpts{ID: "received", Name: "received", Algorithm: AlgAbsolute, Multiplier: 1, Divisor: 1000})
			w.Dimension(DimensionOpts{ID: "sent", Name: "sent", Algorithm: AlgAbsolute, Multiplier: -1, Divisor: 1000})
			w.CLabel("router", r.node, LabelSourceAuto)
			w.CLabel("interface", iface, LabelSourceAuto)
			w.CLabelCommit()
		}
	}
}

// collect writes one round per chart of r; tick 0 is each chart's first
// round. On tick 1 the rpi's wlan0 counters were stale: gaps, not zeros.
func collect(w *Writer, vnodes bool, r router, tick int) {
	since := time.Duration(0)
	if tick > 0 {
		since = time.Second + 123*time.Microsecond
	}
	for n, iface := range r.ifaces {
		for k, kind := range chartKinds {
			w.Begin(TypeID(chartType(vnodes, r.node), iface+"_"+kind.suffix), since)
			if r.node == "rpi" && tick == 1 {
				w.SetEmpty("received")
				w.SetEmpty("sent")
			} else {
				base := int64(1+n) * int64(1+tick) * 1000
				w.Set("received", base*int64(1000-k*300)+17)
				w.Set("sent", base*int64(100-k*30)+3)
			}
			w.End()
		}
	}
}

// goldenTicks renders two ticks for routers, each flushed on its own, the
// first defining nodes and charts.
func goldenTicks(t *testing.T, f Features) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewWriter(f)
	for tick := range 2 {
		for _, r := range goldenRouters {
			if f.VirtualNodes {
				guid := HostGUID(goldenMachineGUID, r.node)
				if tick == 0 {
					mustOK(t, w.HostDefine(guid, r.node))
					mustOK(t, w.HostLabel("_os_name", "ifstat-mqtt router"))
					mustOK(t, w.HostLabel("ifstat_node", r.node))
					mustOK(t, w.HostDefineEnd())
				} else {
					mustOK(t, w.Host(guid))
				}
			}
			if tick == 0 {
				defineCharts(w, f.VirtualNodes, r)
			}
			collect(w, f.VirtualNodes, r, tick)
		}
		if f.VirtualNodes {
			mustOK(t, w.Host(""))
		}
		if err := w.Flush(&out); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
	return out.Bytes()
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Features
	}{
		{"netdata-1.37", ParseFeatures("v1.37.1")},
		{"virtual-nodes", ParseFeatures("v1.44.0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := goldenTicks(t, tt.f)
			golden.Check(t, "TestGolden/"+tt.name+".golden", got)
			if !tt.f.VirtualNodes {
				for _, kw := range []string{"HOST", "HOST_DEFINE", "HOST_LABEL", "HOST_DEFINE_END", "TRUST_DURATIONS"} {
					for _, line := range strings.Split(string(got), "\n") {
						if w := netdataWords(line); len(w) > 0 && w[0] == kw {
							t.Errorf("1.37 output has %s: %q", kw, line)
						}
					}
				}
			}
		})
	}
}

// FuzzLineShape feeds arbitrary text into every text and id field of CHART
// and asserts the invariant of TestHostileFieldsKeepLineShape: one line of 13
// words, within the 1.37 limit, naming the chart TypeID names.
func FuzzLineShape(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		w := NewWriter(Features{})
		w.Chart(ChartOpts{Type: a, ID: b, Name: a, Title: b, Units: a, Family: b, Context: a,
			ChartType: ChartType(b), Options: a, Plugin: b, Module: a})
		out := string(w.Bytes())
		if strings.Count(out, "\n") != 1 || len(out) > 15360 {
			t.Fatalf("Chart output is not one line within 15360 bytes: %q", out)
		}
		words := netdataWords(out)
		if len(words) != 13 || words[0] != "CHART" || words[1] != TypeID(a, b) {
			t.Fatalf("Chart output parses into %q", words)
		}
	})
}
