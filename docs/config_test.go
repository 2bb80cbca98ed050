package docs

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"
	"github.com/kelseyhightower/envconfig"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

const (
	readmePath  = "../README.md"
	beginMarker = "<!-- config:begin -->"
	endMarker   = "<!-- config:end -->"
)

// usageRow is envconfig's usage metadata of one variable, tab-separated:
// key, default, description.
const usageRow = "{{range .}}{{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}"

type variable struct{ Key, Default, Desc string }

// variables lists spec's variables in struct order, as envconfig sees them.
func variables(spec any) ([]variable, error) {
	var buf bytes.Buffer
	if err := envconfig.Usagef(config.Prefix, spec, &buf, usageRow); err != nil {
		return nil, fmt.Errorf("usage of %T: %w", spec, err)
	}
	var vars []variable
	for line := range strings.Lines(buf.String()) {
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("usage of %T: unexpected line %q", spec, line)
		}
		vars = append(vars, variable{f[0], f[1], f[2]})
	}
	return vars, nil
}

// cellEscaper keeps a description's | from splitting the cell and its *
// (globs like eth*) from starting emphasis.
var cellEscaper = strings.NewReplacer("|", `\|`, "*", `\*`)

// cell makes s safe inside a Markdown table cell.
func cell(s string) string { return cellEscaper.Replace(s) }

// table renders vars as a Markdown table, leaving out the keys in skip (the
// shared variables every program embeds).
func table(vars []variable, skip map[string]bool) string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range vars {
		if skip[v.Key] {
			continue
		}
		def := ""
		if v.Default != "" {
			def = "`" + cell(v.Default) + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Key, def, cell(v.Desc))
	}
	return b.String()
}

// configReference renders the README's configuration tables from the
// structs the programs parse.
func configReference() (string, error) {
	common, err := variables(&config.Common{})
	if err != nil {
		return "", err
	}
	agent, err := variables(&publisher.Config{})
	if err != nil {
		return "", err
	}
	br, err := variables(&bridge.Config{})
	if err != nil {
		return "", err
	}
	shared := make(map[string]bool)
	for _, v := range common {
		shared[v.Key] = true
	}
	var b strings.Builder
	b.WriteString("Shared by both programs (`config.Common`):\n\n")
	b.WriteString(table(common, nil))
	b.WriteString("\nAgent (`ifstat-agent`, `publisher.Config`):\n\n")
	b.WriteString(table(agent, shared))
	b.WriteString("\nBridge (`ifstat-bridge`, `bridge.Config`):\n\n")
	b.WriteString(table(br, shared))
	return b.String(), nil
}

// splitSection returns the README before, inside and after the markers.
func splitSection(readme string) (before, inside, after string, err error) {
	before, rest, ok := strings.Cut(readme, beginMarker+"\n")
	if !ok {
		return "", "", "", fmt.Errorf("%s: no line %q", readmePath, beginMarker)
	}
	inside, after, ok = strings.Cut(rest, endMarker)
	if !ok {
		return "", "", "", fmt.Errorf("%s: no %q after %q", readmePath, endMarker, beginMarker)
	}
	return before, inside, after, nil
}

// TestConfigReference fails when the README's configuration tables and the
// config structs disagree; -update rewrites the README section.
func TestConfigReference(t *testing.T) {
	want, err := configReference()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	before, inside, after, err := splitSection(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if golden.Update() {
		if inside != want {
			if err := os.WriteFile(readmePath, []byte(before+beginMarker+"\n"+want+endMarker+after), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the configuration section of %s", readmePath)
		}
		return
	}
	if diff := cmp.Diff(want, inside); diff != "" {
		t.Errorf("README configuration section differs from the config structs (-code +README):\n%s\nrun: go test ./docs -run TestConfigReference -update", diff)
	}
}

func TestSplitSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in              string
		before, inside, after string
		wantErr               bool
	}{
		{name: "ok", in: "a\n" + beginMarker + "\nx\n" + endMarker + "\nb\n", before: "a\n", inside: "x\n", after: "\nb\n"},
		{name: "empty", in: beginMarker + "\n" + endMarker, inside: ""},
		{name: "no begin", in: "a\n" + endMarker, wantErr: true},
		{name: "no end", in: beginMarker + "\nx\n", wantErr: true},
		{name: "end before begin", in: endMarker + "\n" + beginMarker + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, i, a, err := splitSection(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("splitSection(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff([3]string{tt.before, tt.inside, tt.after}, [3]string{b, i, a}); diff != "" {
				t.Errorf("splitSection(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	type spec struct {
		Shared  string `split_words:"true" default:"x" desc:"shared"`
		MaxRate int    `split_words:"true" default:"200" desc:"a|b"`
		Node    string `split_words:"true" desc:"node id"`
	}
	vars, err := variables(&spec{})
	if err != nil {
		t.Fatal(err)
	}
	got := table(vars, map[string]bool{"IFSTAT_SHARED": true})
	want := "| variable | default | meaning |\n|---|---|---|\n" +
		"| `IFSTAT_MAX_RATE` | `200` | a\\|b |\n" +
		"| `IFSTAT_NODE` |  | node id |\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
