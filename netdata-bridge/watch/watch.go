// Package watch is the bridge's terminal view: per router a heading line
// that says whether its agent is online, answering or offline, and per
// interface a row with rates, the bridge's running totals, the rounds
// without a rate (gaps), a sparkline of recent receive rates and the
// status. It is an output of the bridge like Netdata's, fed the same
// samples, and tells the truth about liveness: an agent whose retained
// status says offline is shown offline at the next round, one that stops
// answering without a status shows "no reply Ns", and neither keeps its
// last rate on screen.
//
// A round is one tick of the bridge's clock. For each interface of a
// sampled agent a round gives a rate or a gap; a gap is a round the agent
// did not answer (no reply, or offline by its status) or answered without
// a rate for that interface (absent, stale, reset, a span over
// IFSTAT_MAX_GAP, …). The very first reply of an interface is its
// baseline and neither. Gaps are counted per row and drawn as holes (·)
// in the sparkline.
//
// The table fits the terminal's width (80 columns when unknown): the
// sparkline takes what the fixed columns leave.
package watch

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// history is the most rounds a sparkline keeps.
const history = 120

// DefaultWidth is the width drawn for when the terminal's is unknown.
const DefaultWidth = 80

// Hole is the sparkline's mark for a round without a rate.
const Hole = '·'

// Agents says which agents are online by their retained status; the
// bridge's *Sampler is one. The view calls it only from Tick, which the
// bridge runs on its loop goroutine, the sampler's owner.
type Agents interface {
	Online() []string
}

// Options configures a View.
type Options struct {
	// Header lines are printed above the table, cut to the width.
	Header []string
	// Clear redraws in place with ANSI escapes (for a terminal); else each
	// frame is appended.
	Clear bool
	// Every is the shortest time between two frames.
	Every time.Duration
	// Size returns the terminal's columns and rows, asked at every frame;
	// nil or a value <= 0 means DefaultWidth columns and no row limit.
	Size func() (cols, rows int)
}

// View renders the table to an io.Writer. Its methods are called from the
// bridge's loop goroutine only.
type View struct {
	out    io.Writer
	opt    Options
	agents Agents

	nodes   map[string]*node
	replies uint64
	last    time.Time
	buf     bytes.Buffer
}

// node is one agent.
type node struct {
	name string
	// offline: the agent's retained status says offline.
	offline bool
	// silent: the agent's last round went unanswered.
	silent bool
	// waiting: back online by its status, no round since.
	waiting bool
	// lastReply is the tick of the last answered round; since the tick the
	// node was first seen at.
	lastReply, since time.Time
	rows             map[string]*row
}

// row is one interface.
type row struct {
	name    string
	rx, tx  float64 // bits/s of this round, when rated
	rated   bool    // the latest round gave a rate
	total   rate.Values
	status  string // the rate tracker's word for the latest reply
	started bool   // the baseline (first reply) was seen
	gaps    uint64
	spark   []cell
}

// cell is one round of a sparkline: a receive rate, or a hole.
type cell struct {
	v  float64
	ok bool
}

// New returns a view writing to out.
func New(out io.Writer, opt Options) *View {
	return &View{out: out, opt: opt, nodes: make(map[string]*node)}
}

// SetAgents tells the view where to read which agents are online (the
// bridge's Sampler); without it an agent that went offline by its status
// is not detected. Call it before the bridge runs.
func (v *View) SetAgents(a Agents) { v.agents = a }

func (v *View) node(name string, tick time.Time) *node {
	n := v.nodes[name]
	if n == nil {
		n = &node{name: name, since: tick, rows: make(map[string]*row)}
		v.nodes[name] = n
	}
	return n
}

func (n *node) row(name string) *row {
	r := n.rows[name]
	if r == nil {
		r = &row{name: name}
		n.rows[name] = r
	}
	return r
}

// push appends one round to the sparkline.
func (r *row) push(c cell) {
	r.spark = append(r.spark, c)
	if len(r.spark) > history {
		r.spark = r.spark[len(r.spark)-history:]
	}
}

// gap records a round without a rate.
func (r *row) gap(status string) {
	r.rated, r.status = false, status
	r.gaps++
	r.push(cell{})
}

// Emit records a node's sample (one round of one agent) and redraws when
// due.
func (v *View) Emit(ns *bridge.NodeSample, now time.Time) error {
	v.record(ns)
	return v.maybeDraw(now)
}

func (v *View) record(ns *bridge.NodeSample) {
	n := v.node(ns.Node, ns.Tick)
	// The bridge samples only agents online by their status.
	n.offline, n.waiting = false, false
	if ns.Gap {
		n.silent = true
		for _, is := range ns.Ifaces {
			if r := n.rows[is.Name]; r != nil {
				r.gap("")
			}
		}
		return
	}
	v.replies++
	n.silent = false
	n.lastReply = ns.Tick
	for _, is := range ns.Ifaces {
		if is.Obsolete {
			delete(n.rows, is.Name)
			continue
		}
		r := n.row(is.Name)
		if is.Absent {
			r.gap("absent")
			continue
		}
		res := is.Result
		r.total = res.Total
		switch {
		case res.Rate:
			r.started = true
			r.rated, r.status = true, res.Status.String()
			r.rx = float64(res.PerSecond(rate.RxBytes, 8))
			r.tx = float64(res.PerSecond(rate.TxBytes, 8))
			r.push(cell{v: r.rx, ok: true})
		case res.Status == rate.First && !r.started:
			// The baseline: nothing to compare with yet, no round lost.
			r.started = true
			r.rated, r.status = false, res.Status.String()
		default:
			r.started = true
			r.gap(res.Status.String())
		}
	}
}

// Tick is called by the bridge once per round, after the previous round's
// samples: every interface of an agent whose status says offline gets a
// gap for the round, and the frame is redrawn when due.
func (v *View) Tick(t, now time.Time) error {
	if v.agents != nil {
		online := v.agents.Online()
		for name, n := range v.nodes {
			if _, on := slices.BinarySearch(online, name); on {
				if n.offline {
					// Back online: its rows show the next round's outcome.
					n.offline, n.waiting = false, true
				}
				continue
			}
			n.offline, n.silent = true, false
			for _, r := range n.rows {
				r.gap("")
			}
		}
	}
	return v.maybeDraw(now)
}

// Keepalive redraws, so the clock moves while no agent answers.
func (v *View) Keepalive(now time.Time) error {
	return v.maybeDraw(now)
}

func (v *View) maybeDraw(now time.Time) error {
	if now.Sub(v.last) < v.opt.Every {
		return nil
	}
	v.last = now
	return v.draw(now)
}

// Column widths. A row is the indent, the interface, and the fixed
// columns each after one space, then the sparkline; the status follows
// the sparkline so that a short status leaves no hole in the table.
const (
	indent     = 1
	ifaceW     = 9
	rateW      = 11 // "99.9 Mbit/s"
	totalW     = 8  // "1023 MiB"
	gapsW      = 4
	statusW    = 12 // "no reply 99s"
	fixedWidth = indent + ifaceW + 2*(1+rateW) + 2*(1+totalW) + 1 + gapsW + 1 + 1 + statusW
	minSpark   = 4
)

func (v *View) size() (cols, rows int) {
	if v.opt.Size != nil {
		cols, rows = v.opt.Size()
	}
	if cols <= 0 {
		cols = DefaultWidth
	}
	return cols, max(rows, 0)
}

func (v *View) draw(now time.Time) error {
	cols, rows := v.size()
	lines := v.Render(now, cols)
	if rows > 1 && len(lines) > rows-1 {
		// The cursor's line is the last: a frame of rows lines would scroll.
		more := len(lines) - (rows - 2)
		lines = append(lines[:rows-2], cut(fmt.Sprintf("… %d more lines: a taller terminal shows them", more), cols-1))
	}
	b := &v.buf
	b.Reset()
	if v.opt.Clear {
		b.WriteString("\x1b[H\x1b[2J")
	}
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err := v.out.Write(b.Bytes())
	return err
}

// Render returns the frame's lines for a terminal cols wide, each at most
// cols-1 columns (a line that fills the last column wraps on some
// terminals). It is the whole drawing logic, without a terminal.
func (v *View) Render(now time.Time, cols int) []string {
	w := max(cols-1, fixedWidth+minSpark)
	spark := min(w-fixedWidth, history)
	var lines []string
	for _, h := range v.opt.Header {
		lines = append(lines, cut(h, w))
	}
	var online, offline int
	var gaps uint64
	names := make([]string, 0, len(v.nodes))
	for name, n := range v.nodes {
		names = append(names, name)
		if n.offline {
			offline++
		} else {
			online++
		}
		for _, r := range n.rows {
			gaps += r.gaps
		}
	}
	slices.Sort(names)
	lines = append(lines,
		cut(fmt.Sprintf("%s  agents: %d online, %d offline  replies %d  gaps %d", now.Format("15:04:05"), online, offline, v.replies, gaps), w),
		"",
		fmt.Sprintf("%-*s %*s %*s %*s %*s %*s %-*s %s", indent+ifaceW, "IFACE", rateW, "RX", rateW, "TX",
			totalW, "RX total", totalW, "TX total", gapsW, "GAPS", spark, cut("RX trend", spark), "STATUS"))
	if len(names) == 0 {
		lines = append(lines, "(waiting for agents: none has answered yet)")
	}
	for _, name := range names {
		n := v.nodes[name]
		lines = append(lines, cut(n.heading(now), w))
		keys := make([]string, 0, len(n.rows))
		for k := range n.rows {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			lines = append(lines, n.line(n.rows[k], now, spark))
		}
	}
	return lines
}

// heading is the node's line: its name and liveness.
func (n *node) heading(now time.Time) string {
	var s string
	switch {
	case n.offline:
		s = "offline (agent status)"
	case n.silent:
		s = "online, no reply for " + n.silence(now)
	case n.waiting:
		s = "online again, waiting for its reply"
	default:
		s = "online, answering"
	}
	if !n.lastReply.IsZero() {
		s += ", last reply " + n.lastReply.Format("15:04:05")
	}
	if len(n.rows) == 0 && !n.lastReply.IsZero() {
		s += ", no interfaces"
	}
	return n.name + ": " + s
}

// silence is how long the agent has not answered: since the tick of its
// last answered round, or since it was first seen.
func (n *node) silence(now time.Time) string {
	from := n.lastReply
	if from.IsZero() {
		from = n.since
	}
	return Age(now.Sub(from))
}

// line is one interface's row; rates are blank unless the latest round
// gave one.
func (n *node) line(r *row, now time.Time, spark int) string {
	status := r.status
	switch {
	case n.offline:
		status = "offline"
	case n.silent:
		status = "no reply " + n.silence(now)
	case n.waiting:
		status = "waiting"
	}
	rx, tx := "", ""
	if r.rated && !n.offline && !n.silent && !n.waiting {
		rx, tx = Rate(r.rx), Rate(r.tx)
	}
	s := fmt.Sprintf("%*s%-*s %*s %*s %*s %*s %*s %s %s", indent, "", ifaceW, cut(r.name, ifaceW), rateW, rx, rateW, tx,
		totalW, Bytes(r.total[rate.RxBytes]), totalW, Bytes(r.total[rate.TxBytes]), gapsW, Count(r.gaps),
		pad(sparkline(r.spark, spark), spark), cut(status, statusW))
	return strings.TrimRight(s, " ")
}

// cut shortens s to n columns (runes), marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// pad fills s with spaces to n runes.
func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// Age formats a duration in one unit, at most 4 columns: 0s..99s, then
// minutes, hours, days.
func Age(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
	switch {
	case s < 100:
		return strconv.FormatInt(s, 10) + "s"
	case s < 100*60:
		return strconv.FormatInt(s/60, 10) + "m"
	case s < 100*3600:
		return strconv.FormatInt(s/3600, 10) + "h"
	}
	return strconv.FormatInt(s/86400, 10) + "d"
}

// Count formats a counter in at most 4 columns.
func Count(n uint64) string {
	switch {
	case n < 10_000:
		return strconv.FormatUint(n, 10)
	case n < 1_000_000:
		return strconv.FormatUint(n/1000, 10) + "k"
	case n < 1_000_000_000:
		return strconv.FormatUint(n/1_000_000, 10) + "M"
	}
	return strconv.FormatUint(n/1_000_000_000, 10) + "G"
}

// sig3 formats v (0 <= v < limit) with three significant digits, or
// reports that it rounds to limit or more.
func sig3(v, limit float64) (string, bool) {
	switch {
	case v < 9.995:
		return strconv.FormatFloat(v, 'f', 2, 64), true
	case v < 99.95:
		return strconv.FormatFloat(v, 'f', 1, 64), true
	case v < limit-0.5:
		return strconv.FormatFloat(v, 'f', 0, 64), true
	}
	return "", false
}

// Rate formats bits/s with a decimal unit (bit/s, kbit/s, Mbit/s, Gbit/s,
// Tbit/s) and three significant digits: at most 11 columns.
func Rate(bps float64) string {
	if bps < 999.5 {
		return strconv.FormatFloat(max(bps, 0), 'f', 0, 64) + " bit/s"
	}
	v := bps
	for _, u := range []string{"kbit/s", "Mbit/s", "Gbit/s"} {
		v /= 1000
		if s, ok := sig3(v, 1000); ok {
			return s + " " + u
		}
	}
	return strconv.FormatFloat(v/1000, 'f', 2, 64) + " Tbit/s"
}

// Bytes formats n bytes with a binary unit and three significant digits
// (four from 1000 to 1023): at most 8 columns.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= unit
		if s, ok := sig3(v, unit); ok {
			return s + " " + u
		}
	}
	s, _ := sig3(v/unit, 1e9)
	return s + " EiB"
}

var bars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last n rounds, each rate scaled to the largest
// shown, a round without a rate as Hole.
func sparkline(cells []cell, n int) string {
	if len(cells) > n {
		cells = cells[len(cells)-n:]
	}
	hi := 0.0
	for _, c := range cells {
		if c.ok {
			hi = max(hi, c.v)
		}
	}
	var sb strings.Builder
	for _, c := range cells {
		if !c.ok {
			sb.WriteRune(Hole)
			continue
		}
		i := 0
		if hi > 0 {
			// Rounded: a steady rate's small wobble stays at the top.
			i = int(math.Round(c.v / hi * float64(len(bars)-1)))
		}
		sb.WriteRune(bars[max(0, min(i, len(bars)-1))])
	}
	return sb.String()
}
