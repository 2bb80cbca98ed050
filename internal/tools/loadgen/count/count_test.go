package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCounter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Stats
	}{
		{
			name: "definitions only",
			in: "CHART 'ifstat_a.eth0_net' '' 'Bandwidth (eth0)' 'kilobits/s' 'eth0' 'ifstat.net' 'area' 7000 1 '' 'ifstat' 'mqtt'\n" +
				"DIMENSION 'received' 'received' 'absolute' 1 1000 ''\nCLABEL 'interface' 'eth0' 1\nCLABEL_COMMIT\n",
			want: Stats{Lines: 4, Charts: 1},
		},
		{
			name: "first round empty, then a value with microseconds",
			in: "BEGIN 'ifstat_a.eth0_net'\nSET 'received' = ''\nSET 'sent' = ''\nEND\n" +
				"BEGIN 'ifstat_a.eth0_net' 1000123\nSET 'received' = 8000\nSET 'sent' = 4000\nEND\n",
			want: Stats{Lines: 8, NetRounds: 2, NetValues: 1, NetEmpty: 1},
		},
		{
			name: "other charts and an interface named like net are not counted",
			in: "BEGIN 'ifstat_a.eth0_packets' 1000000\nSET 'received' = 1\nEND\n" +
				"BEGIN 'ifstat_a.eth0_net_x' 1000000\nSET 'received' = ''\nEND\n",
			want: Stats{Lines: 6},
		},
		{
			name: "virtual node flavour and keepalive",
			in:   "HOST 'x'\nBEGIN 'ifstat.wg0_net' 999000\nSET 'received' = 0\nEND\nHOST ''\n\n",
			want: Stats{Lines: 6, NetRounds: 1, NetValues: 1},
		},
		{
			name: "unknown keyword and a SET after END",
			in:   "FLUSH\nBEGIN 'a.b_net'\nEND\nSET 'received' = 5\n",
			want: Stats{Lines: 4, NetRounds: 1, Unparsed: 1},
		},
		{
			name: "no final newline",
			in:   "BEGIN 'a.b_net'\nSET 'received' = 7",
			want: Stats{Lines: 2, NetRounds: 1, NetValues: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c Counter
			if err := Read(strings.NewReader(tt.in), &c); err != nil {
				t.Fatalf("Read: %v", err)
			}
			want := tt.want
			want.Bytes = uint64(len(tt.in)) // every byte is counted
			if diff := cmp.Diff(want, c.Snapshot()); diff != "" {
				t.Errorf("Snapshot() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
