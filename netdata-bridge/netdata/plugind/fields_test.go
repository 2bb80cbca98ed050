package plugind

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestFields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"", nil},
		{"BEGIN 'ifstat_er-x.eth0_net' 1000000", []string{"BEGIN", "ifstat_er-x.eth0_net", "1000000"}},
		{"  SET   'received' =  12 ", []string{"SET", "received", "=", "12"}},
		{"CLABEL 'name' 'two words' 1", []string{"CLABEL", "name", "two words", "1"}},
		{"X '' y", []string{"X", "", "y"}},
		{"X 'unterminated rest", []string{"X", "unterminated rest"}},
	} {
		if got := Fields(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("Fields(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	// What Writer writes, Fields reads back.
	var buf bytes.Buffer
	w := NewWriter(Features{})
	w.Chart(ChartOpts{Type: "ifstat_er-x", ID: "eth0_net", Title: "Bandwidth of eth0", Units: "kilobits/s"})
	if err := w.Flush(&buf); err != nil {
		t.Fatal(err)
	}
	got := Fields(strings.TrimSuffix(buf.String(), "\n"))
	if len(got) < 6 || got[0] != "CHART" || got[1] != "ifstat_er-x.eth0_net" || got[3] != "Bandwidth of eth0" || got[4] != "kilobits/s" {
		t.Errorf("Fields of a CHART line = %q", got)
	}
}
