package main

import (
	"bytes"
	"sync/atomic"
)

// Stats are cumulative counts of a plugins.d stream.
type Stats struct {
	Bytes  uint64 `json:"bytes"`
	Lines  uint64 `json:"lines"`
	Charts uint64 `json:"charts"` // CHART lines, obsolete ones included
	// NetRounds counts BEGIN rounds of ifstat.net charts (ids ending in
	// "_net"): one per interface per node per tick that produced output.
	NetRounds uint64 `json:"net_rounds"`
	// NetValues and NetEmpty split those rounds by their 'received' SET: a
	// number (a rate) or '' (a gap: missed reply, first read, stale read).
	NetValues uint64 `json:"net_values"`
	NetEmpty  uint64 `json:"net_empty"`
	// Unparsed counts lines that start with no keyword this counter knows;
	// the bridge should write none.
	Unparsed uint64 `json:"unparsed"`
}

// Counter counts lines of a plugins.d stream. Line is called by one
// goroutine; Snapshot may be called from another at any time.
type Counter struct {
	bytes, lines, charts, rounds, values, empty, unparsed atomic.Uint64

	inNet bool // inside a BEGIN … END of an ifstat.net chart
}

var (
	kwBegin    = []byte("BEGIN '")
	kwSetRecv  = []byte("SET 'received' = ")
	kwEmpty    = []byte("''")
	netSuffix  = []byte("_net'")
	knownWords = [][]byte{
		[]byte("SET "), []byte("END"), []byte("BEGIN "), []byte("CHART "), []byte("DIMENSION "),
		[]byte("CLABEL"), []byte("HOST"), []byte("VARIABLE "), []byte("DISABLE"),
	}
)

// Line counts one line, with or without its trailing newline.
func (c *Counter) Line(line []byte) {
	c.bytes.Add(uint64(len(line)))
	c.lines.Add(1)
	line = bytes.TrimRight(line, "\r\n")
	switch {
	case bytes.HasPrefix(line, kwSetRecv):
		if !c.inNet {
			return
		}
		if bytes.Equal(line[len(kwSetRecv):], kwEmpty) {
			c.empty.Add(1)
		} else {
			c.values.Add(1)
		}
	case bytes.HasPrefix(line, kwBegin):
		// BEGIN 'type.id' [µs]: the id is the first quoted field.
		rest := line[len(kwBegin)-1:]
		if i := bytes.IndexByte(rest[1:], '\''); i >= 0 {
			rest = rest[:i+2]
		}
		c.inNet = bytes.HasSuffix(rest, netSuffix)
		if c.inNet {
			c.rounds.Add(1)
		}
	case bytes.Equal(line, []byte("END")):
		c.inNet = false
	case bytes.HasPrefix(line, []byte("CHART ")):
		c.charts.Add(1)
	case len(line) == 0:
		// the keepalive
	default:
		for _, kw := range knownWords {
			if bytes.HasPrefix(line, kw) {
				return
			}
		}
		c.unparsed.Add(1)
	}
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() Stats {
	return Stats{
		Bytes: c.bytes.Load(), Lines: c.lines.Load(), Charts: c.charts.Load(),
		NetRounds: c.rounds.Load(), NetValues: c.values.Load(), NetEmpty: c.empty.Load(),
		Unparsed: c.unparsed.Load(),
	}
}
