package netdata

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"

	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
)

// FunctionName is the Netdata function ifstat.plugin offers (Netdata 1.37
// and later): a table of the routers, served at
// /api/v1/function?function=ifstat-routers and in Netdata Cloud's Functions
// tab. "ifstat-routers help" answers with a text.
const FunctionName = "ifstat-routers"

// functionTimeout is the timeout, in seconds, the function is advertised
// with: Netdata's default. The answer comes from the bridge's loop at its
// next tick or keepalive, at most 5 s away.
const functionTimeout = 10

// functionQueue bounds the calls waiting for the loop; beyond it calls are
// dropped (Netdata answers its caller with a timeout).
const functionQueue = 16

// maxStdinLine bounds a line read from stdin; Netdata 1.37's own lines are
// at most 15360 bytes.
const maxStdinLine = 16 << 10

// FunctionCall is one FUNCTION line Netdata wrote on the plugin's stdin:
//
//	FUNCTION <transaction> <timeout> "<name> <args>"
//
// Netdata 2.x appends more quoted words (access, source), which are ignored.
type FunctionCall struct {
	Transaction string
	Timeout     time.Duration
	Name        string
	Args        []string

	received time.Time
}

// Kinds of stdin lines, as ParseStdinLine sorts them.
const (
	LineEmpty    = "empty"
	LineFunction = "FUNCTION"
	LineQuit     = "QUIT"
	// LineOther is a keyword of a later Netdata this plugin does not
	// answer (FUNCTION_CANCEL, FUNCTION_PAYLOAD, …): ignored quietly.
	LineOther = "other"
)

// otherKeywords are keywords Netdata 2.x writes to plugins that this plugin
// ignores without a warning.
var otherKeywords = map[string]bool{
	"FUNCTION_CANCEL": true, "FUNCTION_PROGRESS": true, "FUNCTION_PAYLOAD": true,
	"FUNCTION_PAYLOAD_END": true, "NODE_ID": true, "CONFIG": true,
}

// errStdinLine is wrapped by every error of ParseStdinLine.
var errStdinLine = errors.New("malformed line on stdin")

// ParseStdinLine parses one line Netdata wrote on the plugin's stdin (without
// or with its newline). kind is one of the Line constants; call is set for
// LineFunction. Anything else, or a FUNCTION line that lacks a part, has a
// transaction that is not [A-Za-z0-9_-] or a timeout that is not a positive
// number of seconds, is an error: the caller logs and ignores it.
func ParseStdinLine(line string) (kind string, call FunctionCall, err error) {
	line = strings.TrimRight(line, "\r\n")
	words, err := splitWords(line)
	if err != nil {
		return "", call, err
	}
	if len(words) == 0 {
		return LineEmpty, call, nil
	}
	switch kw := words[0]; {
	case kw == "QUIT" && len(words) == 1:
		return LineQuit, call, nil
	case otherKeywords[kw]:
		return LineOther, call, nil
	case kw != "FUNCTION":
		return "", call, fmt.Errorf("%w: unknown keyword %q", errStdinLine, clip(kw, 40))
	}
	if len(words) < 4 || len(words) > 8 {
		return "", call, fmt.Errorf("%w: FUNCTION with %d words, want 4", errStdinLine, len(words))
	}
	if !validWord(words[1]) {
		return "", call, fmt.Errorf("%w: FUNCTION transaction %q", errStdinLine, clip(words[1], 40))
	}
	sec, err := strconv.Atoi(words[2])
	if err != nil || sec < 1 || sec > 86400 {
		return "", call, fmt.Errorf("%w: FUNCTION timeout %q", errStdinLine, clip(words[2], 40))
	}
	fn := strings.Fields(words[3])
	if len(fn) == 0 {
		return "", call, fmt.Errorf("%w: FUNCTION without a name", errStdinLine)
	}
	return LineFunction, FunctionCall{Transaction: words[1], Timeout: time.Duration(sec) * time.Second, Name: fn[0], Args: fn[1:]}, nil
}

// splitWords splits a line as Netdata's plugins.d parser does for the lines
// it writes: words separated by spaces or tabs, a word in "…" or '…' kept
// whole. Control characters and unterminated quotes are errors.
func splitWords(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c < 0x20 || c == 0x7f:
			return nil, fmt.Errorf("%w: control character %#x", errStdinLine, c)
		case c == '"' || c == '\'':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quote", errStdinLine)
			}
			w := line[i+1 : i+1+end]
			if strings.ContainsFunc(w, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, fmt.Errorf("%w: control character in a quoted word", errStdinLine)
			}
			words = append(words, w)
			i += end + 2
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] >= 0x20 && line[j] != 0x7f {
				j++
			}
			words = append(words, line[i:j])
			i = j
		}
		if len(words) > 20 {
			return nil, fmt.Errorf("%w: more than 20 words", errStdinLine)
		}
	}
	return words, nil
}

// validWord reports whether s is a transaction id Netdata could have sent
// and takes back unchanged: [A-Za-z0-9_-], at most 200 bytes.
func validWord(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	})
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// FunctionOutput offers the function FunctionName to a Netdata 1.37 or later
// and answers its calls. It is an Output (and Ticker) of the bridge, so that
// everything it writes to stdout is written by the bridge's loop goroutine,
// the one writer of stdout, between whole ticks of the Output sharing
// it: a result never lands inside a chart's BEGIN…END round, and the
// sampler it reads is read on the goroutine that owns it. Serve reads stdin
// on a goroutine of its own and only queues the calls.
type FunctionOutput struct {
	out      io.Writer
	w        *plugind.Writer
	enabled  bool
	interval time.Duration
	log      *logrus.Entry
	limiter  *logx.Limiter
	calls    chan FunctionCall
	sampler  *bridge.Sampler

	advertised bool
	nodes      map[string]*fnNode
	now        func() time.Time
}

// fnNode is what the function shows of one router, gathered from the
// samples the output receives. It is kept for every router and interface
// (40,000 at 5,000 routers) and read only when the function is called, so
// it holds numbers, formatted when the table is made, in one slice rather
// than a map per column.
type fnNode struct {
	lastReply  time.Time // arrival of the last matched reply
	replyCount uint64
	gaps       int // ticks in a row without a reply
	// ifaces holds the interfaces of the last reply in its order (by
	// name), the first listed of them, then those it did not list that
	// are not obsolete: their refresh period is shown again if they
	// return without one.
	ifaces []fnIface
	listed int
}

// fnIface is what the function shows of one interface.
type fnIface struct {
	name string
	// refreshNS is the last refresh period known, or with atMost the
	// last bound; 0 while neither was.
	refreshNS int64
	atMost    bool
	tooCoarse bool
	absent    bool
}

// refresh returns the refresh period as the table shows it: "1000 ms",
// "≤ 500 ms" or "" when unknown.
func (f *fnIface) refresh() string {
	switch {
	case f.refreshNS == 0:
		return ""
	case f.atMost:
		return "≤ " + fmtMS(f.refreshNS)
	}
	return fmtMS(f.refreshNS)
}

// iface returns the entry of the interface name, placed at position
// n.listed (the interfaces of a reply come in the same order every time,
// so it is usually there already) or added there.
func (n *fnNode) iface(name string) *fnIface {
	k := n.listed
	j := k
	for j < len(n.ifaces) && n.ifaces[j].name != name {
		j++
	}
	if j == len(n.ifaces) {
		n.ifaces = append(n.ifaces, fnIface{name: name})
	}
	n.ifaces[k], n.ifaces[j] = n.ifaces[j], n.ifaces[k]
	return &n.ifaces[k]
}

// drop forgets the interface name unless it was listed already.
func (n *fnNode) drop(name string) {
	for j := n.listed; j < len(n.ifaces); j++ {
		if n.ifaces[j].name == name {
			last := len(n.ifaces) - 1
			n.ifaces[j] = n.ifaces[last]
			n.ifaces[last] = fnIface{} // release the name
			n.ifaces = n.ifaces[:last]
			return
		}
	}
}

// NewFunctionOutput returns the output for a Netdata of version
// netdataVersion (NETDATA_VERSION) writing to out, the stdout also
// Output writes to. Before Netdata 1.37 (or without a version) it
// offers nothing and writes nothing.
func NewFunctionOutput(out io.Writer, netdataVersion string, interval time.Duration, log *logrus.Entry) *FunctionOutput {
	return &FunctionOutput{
		out: out, w: plugind.NewWriter(plugind.ParseFeatures(netdataVersion)),
		enabled: plugind.FunctionsSupported(netdataVersion), interval: interval, log: log,
		limiter: logx.NewLimiter(5, time.Minute, nil),
		calls:   make(chan FunctionCall, functionQueue),
		nodes:   map[string]*fnNode{},
		now:     time.Now,
	}
}

// Enabled reports whether the Netdata knows functions.
func (o *FunctionOutput) Enabled() bool { return o.enabled }

// SetSampler lets the output read the bridge's sampler (which agents are
// online) when it answers; call it before the bridge runs.
func (o *FunctionOutput) SetSampler(s *bridge.Sampler) { o.sampler = s }

// Serve reads Netdata's lines from r until r ends, queueing FUNCTION calls
// for the loop; malformed lines are logged (rate-limited) and ignored, and
// QUIT calls quit. The end of r is no exit signal: Netdata before 1.37 gives
// its plugins /dev/null. Run it on a goroutine of its own.
func (o *FunctionOutput) Serve(r io.Reader, quit func()) {
	br := bufio.NewReaderSize(r, maxStdinLine)
	skipping := false // inside an overlong line
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !skipping {
				o.limiter.Warn(o.log.WithField("bytes", len(line)), "stdin", "ignoring an overlong line on stdin")
			}
			skipping = true
			continue
		}
		if skipping {
			skipping = false
			continue
		}
		if len(line) > 0 {
			o.handleLine(string(line), quit)
		}
		if err != nil {
			if err != io.EOF {
				o.log.WithError(err).Debug("reading stdin")
			}
			return
		}
	}
}

func (o *FunctionOutput) handleLine(line string, quit func()) {
	kind, call, err := ParseStdinLine(line)
	switch {
	case err != nil:
		o.limiter.Warn(o.log.WithError(err).WithField("line", clip(strings.TrimSpace(line), 120)), "stdin", "ignoring a line on stdin")
	case kind == LineQuit:
		if quit != nil {
			quit()
		}
	case kind == LineFunction:
		if !o.enabled {
			o.limiter.Warn(o.log.WithField("function", call.Name), "stdin", "ignoring a FUNCTION call: this Netdata was not offered any")
			return
		}
		call.received = o.now()
		select {
		case o.calls <- call:
		default:
			o.limiter.Warn(o.log.WithField("function", call.Name), "stdin-full", "too many FUNCTION calls waiting; dropping one")
		}
	}
}

// Emit notes what the function shows of ns's router.
func (o *FunctionOutput) Emit(ns *bridge.NodeSample, now time.Time) error {
	n := o.nodes[ns.Node]
	if n == nil {
		n = &fnNode{}
		o.nodes[ns.Node] = n
	}
	if ns.Gap {
		n.gaps++
		return nil
	}
	n.gaps = 0
	n.lastReply = now
	n.replyCount++
	n.listed = 0
	for i := range ns.Ifaces {
		is := &ns.Ifaces[i]
		if is.Obsolete {
			n.drop(is.Name)
			continue
		}
		f := n.iface(is.Name)
		n.listed++
		f.absent, f.tooCoarse = is.Absent, is.TooCoarse
		switch e := &is.Refresh; {
		case e.PeriodNS > 0:
			f.refreshNS, f.atMost = e.PeriodNS, false
		case e.AtMostNS > 0:
			f.refreshNS, f.atMost = e.AtMostNS, true
		}
	}
	return nil
}

func fmtMS(ns int64) string {
	return strconv.FormatFloat(math.Round(float64(ns)/1e5)/10, 'f', -1, 64) + " ms"
}

// Keepalive advertises the function and answers waiting calls.
func (o *FunctionOutput) Keepalive(now time.Time) error { return o.serve(now) }

// Tick advertises the function and answers waiting calls.
func (o *FunctionOutput) Tick(_, now time.Time) error { return o.serve(now) }

func (o *FunctionOutput) serve(now time.Time) error {
	if !o.enabled {
		return nil
	}
	if !o.advertised {
		o.advertised = true
		if err := o.w.Function(FunctionName, functionTimeout, "ifstat routers: status, age of the last reply, counter refresh periods and warnings"); err != nil {
			return err
		}
	}
	for {
		select {
		case c := <-o.calls:
			if now.Sub(c.received) > c.Timeout {
				o.log.WithField("function", c.Name).WithField("waited", now.Sub(c.received)).Debug("FUNCTION call timed out before the loop got to it")
				continue
			}
			o.answer(c, now)
		default:
			return o.w.Flush(o.out)
		}
	}
}

// answer buffers the result of one call.
func (o *FunctionOutput) answer(c FunctionCall, now time.Time) {
	code, ctype, expires, body := 200, "application/json", now.Unix()+int64(max(o.interval/time.Second, 1)), []byte(nil)
	switch {
	case c.Name != FunctionName:
		code, body = 404, errorJSON(404, "No function with this name found in ifstat.plugin.")
	case len(c.Args) == 1 && c.Args[0] == "help":
		ctype, expires = "text/plain", now.Unix()+3600
		body = []byte(functionHelp)
	case len(c.Args) > 0:
		code, body = 400, errorJSON(400, "ifstat-routers takes no arguments but 'help'.")
	default:
		body = o.table(now)
	}
	if code != 200 {
		expires = now.Unix()
	}
	if err := o.w.FunctionResult(c.Transaction, code, ctype, expires, body); err != nil {
		// Only a body over the size limit can get here; say so.
		o.log.WithError(err).Warn("FUNCTION result not sent")
		_ = o.w.FunctionResult(c.Transaction, 500, "application/json", now.Unix(), errorJSON(500, "result too large"))
	}
}

const functionHelp = `ifstat.plugin / ifstat-routers

Lists the routers (ifstat agents) this bridge samples: whether each is
online and answering, how long ago its last reply arrived, its interfaces,
the refresh period of each interface's counters as measured by the bridge,
and warnings (agent offline, requests without reply, an interval shorter
than a counter's refresh period).

No arguments.
`

func errorJSON(code int, msg string) []byte {
	b, _ := json.Marshal(struct {
		Status  int    `json:"status"`
		Message string `json:"error_message"`
	}{code, msg})
	return b
}

// fnColumn is a column of a Netdata 1.37 function table, as apps.plugin's
// "processes" describes its columns.
type fnColumn struct {
	Index     int      `json:"index"`
	UniqueKey bool     `json:"unique_key"`
	Name      string   `json:"name"`
	Visible   bool     `json:"visible"`
	Type      string   `json:"type"`
	Units     string   `json:"units,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	Sort      string   `json:"sort"`
	Sortable  bool     `json:"sortable"`
	Sticky    bool     `json:"sticky"`
	Summary   string   `json:"summary"`
}

// Table columns, in row order.
var fnColumns = []struct {
	key string
	col fnColumn
}{
	{"Router", fnColumn{UniqueKey: true, Name: "Router (agent node id)", Visible: true, Type: "string", Sort: "ascending", Sortable: true, Sticky: true, Summary: "count_unique"}},
	{"Status", fnColumn{Name: "Status", Visible: true, Type: "string", Sort: "ascending", Sortable: true, Summary: "count_unique"}},
	{"LastReply", fnColumn{Name: "Last Reply Age", Visible: true, Type: "bar", Units: "s", Sort: "descending", Sortable: true, Summary: "max"}},
	{"Interval", fnColumn{Name: "Request Interval", Visible: true, Type: "integer", Units: "ms", Sort: "ascending", Sortable: true, Summary: "max"}},
	{"Interfaces", fnColumn{Name: "Interfaces", Visible: true, Type: "string", Sort: "ascending", Sortable: true, Summary: "count"}},
	{"Refresh", fnColumn{Name: "Counter Refresh Period", Visible: true, Type: "string", Sort: "ascending", Sortable: true, Summary: "count"}},
	{"Warnings", fnColumn{Name: "Warnings", Visible: true, Type: "string", Sort: "descending", Sortable: true, Summary: "count"}},
	{"Agent", fnColumn{Name: "Agent", Visible: false, Type: "string", Sort: "ascending", Sortable: true, Summary: "count_unique"}},
}

// Router statuses in the table.
const (
	StatusOnline     = "online"
	StatusNoReplies  = "not answering"
	StatusOffline    = "offline"
	noReplyThreshold = 3 // ticks in a row without a reply
)

// table returns the function's JSON table, in the format of Netdata 1.37's
// function tables (apps.plugin "processes"): status, type "table",
// update_every, data (rows) and columns (keyed, with their index in a row).
func (o *FunctionOutput) table(now time.Time) []byte {
	online := map[string]bool{}
	names := map[string]bool{}
	if o.sampler != nil {
		for _, n := range o.sampler.Online() {
			online[n], names[n] = true, true
		}
	}
	for n := range o.nodes {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	rows := make([][]any, 0, len(sorted))
	maxAge := 0.0
	for _, name := range sorted {
		n := o.nodes[name]
		if n == nil {
			n = &fnNode{}
		}
		var warn []string
		status := StatusOnline
		switch {
		case o.sampler != nil && !online[name]:
			status = StatusOffline
			warn = append(warn, "agent offline (its status topic says so, or its will was published)")
		case n.replyCount == 0 || n.gaps >= noReplyThreshold:
			status = StatusNoReplies
		}
		if n.gaps >= noReplyThreshold && status != StatusOffline {
			warn = append(warn, fmt.Sprintf("%d requests in a row without a reply", n.gaps))
		}
		if n.replyCount == 0 && status != StatusOffline {
			warn = append(warn, "no reply yet")
		}
		var age any
		if !n.lastReply.IsZero() {
			a := math.Round(now.Sub(n.lastReply).Seconds()*10) / 10
			age, maxAge = a, max(maxAge, a)
		}
		var refresh []string
		names := make([]string, 0, n.listed)
		for i := range n.ifaces[:n.listed] {
			f := &n.ifaces[i]
			names = append(names, f.name)
			r := f.refresh()
			if r != "" {
				refresh = append(refresh, f.name+" "+r)
			}
			if f.tooCoarse {
				warn = append(warn, fmt.Sprintf("%s: the interval (%v) is shorter than its counters' refresh period (%s): rates cover whole refreshes", f.name, o.interval, r))
			}
			if f.absent {
				warn = append(warn, f.name+": missing from the last reply")
			}
		}
		agent := ""
		if o.sampler != nil {
			if in := o.sampler.AgentInfo(name); in != nil {
				agent = strings.TrimSpace(in.Version + " " + in.OS + "/" + in.Arch)
			}
		}
		rows = append(rows, []any{name, status, age, o.interval.Milliseconds(), strings.Join(names, ", "),
			strings.Join(refresh, ", "), strings.Join(warn, "; "), agent})
	}
	cols := make(map[string]fnColumn, len(fnColumns))
	for i, c := range fnColumns {
		col := c.col
		col.Index = i
		if col.Type == "bar" {
			m := maxAge
			col.Max = &m
		}
		cols[c.key] = col
	}
	b, err := json.Marshal(struct {
		Status      int                 `json:"status"`
		Type        string              `json:"type"`
		HasHistory  bool                `json:"has_history"`
		UpdateEvery int                 `json:"update_every"`
		Data        [][]any             `json:"data"`
		Columns     map[string]fnColumn `json:"columns"`
	}{200, "table", false, int(max(o.interval/time.Second, 1)), rows, cols})
	if err != nil {
		return errorJSON(500, err.Error())
	}
	return b
}
