package netdatatest

import (
	"strings"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"
)

func TestRenderConfigGolden(t *testing.T) {
	t.Parallel()
	got, err := renderConfig(configInput{
		Layout:      layout{Root: "/T"},
		User:        "netdata",
		Port:        19999,
		UpdateEvery: 1,
		Plugins:     []string{"test", "ifstat", "apps"},
		CommandOpts: map[string]string{"ifstat": "--broker tcp://127.0.0.1:1883 -v"},
	})
	if err != nil {
		t.Fatalf("renderConfig() error = %v", err)
	}
	golden.Check(t, t.Name()+".golden", got)
}

// TestRenderConfigProcNetDev: Netdata's own proc.plugin on one file, its
// other modules off.
func TestRenderConfigProcNetDev(t *testing.T) {
	t.Parallel()
	got, err := renderConfig(configInput{
		Layout: layout{Root: "/T"}, User: "netdata", Port: 19999, UpdateEvery: 1,
		Plugins: []string{"ifstat"}, ProcNetDev: "/T/proc-net-dev",
	})
	if err != nil {
		t.Fatalf("renderConfig() error = %v", err)
	}
	golden.Check(t, t.Name()+".golden", got)
}

// TestRenderConfigHostname: a parent and its child need different names,
// the one a parent serves a child under (/host/<name>/).
func TestRenderConfigHostname(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{{"", "netdatatest"}, {"nd-child", "nd-child"}} {
		got, err := renderConfig(configInput{Layout: layout{Root: "/T"}, User: "netdata", Port: 1, UpdateEvery: 1, Hostname: tt.in})
		if err != nil {
			t.Fatalf("renderConfig(Hostname %q) error = %v", tt.in, err)
		}
		if want := "[global]\n\trun as user = netdata\n\thostname = " + tt.want + "\n"; !strings.HasPrefix(string(got), want) {
			t.Errorf("renderConfig(Hostname %q) starts\n%s\nwant\n%s", tt.in, got[:min(len(got), len(want))], want)
		}
	}
}

func TestRenderConfigRejects(t *testing.T) {
	t.Parallel()
	base := func() configInput {
		return configInput{Layout: layout{Root: "/T"}, User: "netdata", Port: 1, UpdateEvery: 1, Plugins: []string{"test"}}
	}
	tests := []struct {
		name    string
		mod     func(*configInput)
		wantErr string
	}{
		{"options for an unknown plugin", func(c *configInput) { c.CommandOpts = map[string]string{"other": "-v"} }, `command options for "other"`},
		{"newline in options", func(c *configInput) { c.CommandOpts = map[string]string{"test": "-v\n[web]"} }, "line breaks"},
		{"space in root", func(c *configInput) { c.Layout.Root = "/tmp/a b" }, "spaces"},
		{"newline in user", func(c *configInput) { c.User = "a\nb" }, "line breaks"},
		{"space in hostname", func(c *configInput) { c.Hostname = "nd child" }, "spaces"},
		{"newline in hostname", func(c *configInput) { c.Hostname = "a\n[web]" }, "line breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			tt.mod(&in)
			_, err := renderConfig(in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("renderConfig() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestPluginName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		want    string
		wantErr bool
	}{
		{file: "ifstat.plugin", want: "ifstat"},
		{file: "go.d.plugin", want: "go.d"},
		{file: "ifstat", wantErr: true},
		{file: ".plugin", wantErr: true},
		{file: "sub/x.plugin", wantErr: true},
		{file: "../x.plugin", wantErr: true},
		{file: "a b.plugin", wantErr: true},
		{file: "a=b.plugin", wantErr: true},
		{file: "a]b.plugin", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := pluginName(tt.file)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("pluginName(%q) = %q, %v; want %q, error %v", tt.file, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"shorter", "a\nb\n", 5, "a\nb"},
		{"cut", "a\nb\nc\n", 2, "b\nc"},
		{"no final newline", "a\nb\nc", 1, "c"},
		{"empty", "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tail(tt.in, tt.n); got != tt.want {
				t.Errorf("tail(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	const (
		info  = "2026-12-07 12:28:10: netdata INFO  : WEB_SERVER[static1] : starting worker 2\n"
		bad   = "2026-12-07 12:28:10: netdata ERROR : PLUGINSD[bad] : PLUGINSD: 'host:h/chart:test.bad/dim:y' got a SET but dimension does not exist.\n"
		stder = "time=\"2026-12-07T12:28:10Z\" level=error msg=\"broker unreachable\"\n"
	)
	tests := []struct {
		name string
		log  string
		n    int
		want string
	}{
		// The case that failed: the error, then more INFO lines than the tail holds.
		{"error before many info lines", info + bad + strings.Repeat(info, 40), 30, strings.TrimSuffix(bad, "\n")},
		{"plugin stderr kept", info + stder + info + bad, 30, stder + strings.TrimSuffix(bad, "\n")},
		{"last n of the problems", bad + stder + bad, 2, stder + strings.TrimSuffix(bad, "\n")},
		{"only info", info + info, 30, ""},
		{"empty", "", 30, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(tt.log, tt.n); got != tt.want {
				t.Errorf("problems(%q, %d) = %q, want %q", tt.log, tt.n, got, tt.want)
			}
		})
	}
}

func TestPickPoints(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name        string
		col         []*float64
		skip, count int
		want        []*float64
		wantOK      bool
	}{
		{"all null", []*float64{nil, nil}, 0, 1, nil, false},
		{"transient zero of the first END", []*float64{nil, nil, f(0)}, 0, 1, nil, false},
		{"first point followed by a row", []*float64{nil, f(1), f(2)}, 0, 1, []*float64{f(1)}, true},
		{"skip warm-up", []*float64{nil, f(935), f(1973), f(2500), f(2500)}, 2, 2, []*float64{f(2500), f(2500)}, true},
		{"too short", []*float64{nil, f(935), f(1973), f(2500)}, 2, 2, nil, false},
		{"gap kept", []*float64{f(1), nil, f(3), f(4)}, 0, 3, []*float64{f(1), nil, f(3)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := pickPoints(tt.col, tt.skip, tt.count)
			if ok != tt.wantOK {
				t.Fatalf("pickPoints() ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pickPoints() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
