// Package watch is the bridge's terminal view: a compact table per router
// and interface with rates, the bridge's running totals, the status of the
// last interval and a sparkline of recent receive rates. It is an output of
// the bridge like Netdata's, fed the same samples.
package watch

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// history is how many rates a sparkline shows.
const history = 30

// View renders the table to an io.Writer.
type View struct {
	out    io.Writer
	header []string
	clear  bool
	every  time.Duration

	rows     map[string]*row
	samples  uint64
	gaps     uint64
	last     time.Time
	lastTick time.Time
	buf      bytes.Buffer
}

type row struct {
	node, iface string
	rx, tx      float64 // bits/s of the last rated interval
	rated       bool
	total       rate.Values
	status      string
	spark       []float64
}

// New returns a view writing to out. header lines are printed above the
// table; clear redraws in place with ANSI escapes (for a terminal), else
// each frame is appended. A frame is drawn at most once per every.
func New(out io.Writer, header []string, clear bool, every time.Duration) *View {
	return &View{out: out, header: header, clear: clear, every: every, rows: make(map[string]*row)}
}

// Emit records a node's sample and redraws when due.
func (v *View) Emit(ns *bridge.NodeSample, now time.Time) error {
	v.samples++
	if ns.Gap {
		v.gaps++
	}
	for _, is := range ns.Ifaces {
		key := ns.Node + "\x00" + is.Name
		r := v.rows[key]
		if r == nil {
			r = &row{node: ns.Node, iface: is.Name}
			v.rows[key] = r
		}
		switch {
		case is.Obsolete:
			delete(v.rows, key)
			continue
		case is.Absent:
			r.status, r.rated = "absent", false
			if ns.Gap {
				r.status = "no reply"
			}
			continue
		}
		res := is.Result
		r.status = res.Status.String()
		r.total = res.Total
		r.rated = res.Rate
		if res.Rate {
			r.rx = float64(res.PerSecond(rate.RxBytes, 8))
			r.tx = float64(res.PerSecond(rate.TxBytes, 8))
			r.spark = append(r.spark, r.rx)
			if len(r.spark) > history {
				r.spark = r.spark[len(r.spark)-history:]
			}
		}
	}
	v.lastTick = ns.Tick
	if now.Sub(v.last) < v.every {
		return nil
	}
	v.last = now
	return v.draw(now)
}

// Keepalive redraws, so the clock moves while no agent answers.
func (v *View) Keepalive(now time.Time) error {
	if now.Sub(v.last) < v.every {
		return nil
	}
	v.last = now
	return v.draw(now)
}

func (v *View) draw(now time.Time) error {
	b := &v.buf
	b.Reset()
	if v.clear {
		b.WriteString("\x1b[H\x1b[2J")
	}
	for _, h := range v.header {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	fmt.Fprintf(b, "%s  samples %d  gaps %d\n\n", now.Format("15:04:05"), v.samples, v.gaps)
	fmt.Fprintf(b, "%-14s %-14s %12s %12s %10s %10s  %-8s %s\n", "NODE", "IFACE", "RX kbit/s", "TX kbit/s", "RX total", "TX total", "STATUS", "RX (recent)")
	keys := make([]string, 0, len(v.rows))
	for k := range v.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r := v.rows[k]
		rx, tx := "-", "-"
		if r.rated {
			rx, tx = fmt.Sprintf("%.3f", r.rx/1000), fmt.Sprintf("%.3f", r.tx/1000)
		}
		fmt.Fprintf(b, "%-14s %-14s %12s %12s %10s %10s  %-8s %s\n", cut(r.node, 14), cut(r.iface, 14), rx, tx,
			Bytes(r.total[rate.RxBytes]), Bytes(r.total[rate.TxBytes]), r.status, Sparkline(r.spark))
	}
	if len(keys) == 0 {
		b.WriteString("(waiting for agents: none has answered yet)\n")
	}
	_, err := v.out.Write(b.Bytes())
	return err
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// Bytes formats n bytes with a binary unit.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

var bars = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values scaled to their maximum.
func Sparkline(vals []float64) string {
	if len(vals) == 0 {
		return ""
	}
	hi := slices.Max(vals)
	var sb strings.Builder
	for _, x := range vals {
		i := 0
		if hi > 0 {
			i = int(x / hi * float64(len(bars)-1))
		}
		sb.WriteRune(bars[max(0, min(i, len(bars)-1))])
	}
	return sb.String()
}
