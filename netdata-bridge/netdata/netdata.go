package netdata

import (
	"io"
	"slices"
	"sort"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/satmath"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// chartKind is one of the four charts every interface gets, with the
// contexts of the contract. Dimensions mirror Netdata's own net.* charts.
type chartKind struct {
	suffix, context, title, units string
	priority                      int
	chartType                     plugind.ChartType
	// counters are the rate.Values indices of the two dimensions.
	in, out rate.Counter
	inName  string
	outName string
	// mult turns a per-second rate into the SET value: bits for net,
	// thousandths for the others (the divisor 1000 gives three decimals
	// in integers, which Netdata 1.37 requires).
	mult uint64
}

var chartKinds = [...]chartKind{
	{"net", "ifstat.net", "Bandwidth", "kilobits/s", 7000, plugind.ChartArea, rate.RxBytes, rate.TxBytes, "received", "sent", 8},
	{"packets", "ifstat.packets", "Packets", "packets/s", 7001, plugind.ChartLine, rate.RxPackets, rate.TxPackets, "received", "sent", 1000},
	{"errors", "ifstat.errors", "Interface Errors", "errors/s", 7002, plugind.ChartLine, rate.RxErrors, rate.TxErrors, "inbound", "outbound", 1000},
	{"drops", "ifstat.drops", "Interface Drops", "drops/s", 7003, plugind.ChartLine, rate.RxDropped, rate.TxDropped, "inbound", "outbound", 1000},
}

// Output writes NodeSamples as Netdata's plugins.d protocol: one
// virtual node per router where Netdata has them (1.39 and newer), else
// charts on Netdata's own host with the router in the chart type. Each
// NodeSample is committed with one Write, or with [Output.Batch] the
// samples of a burst together.
type Output struct {
	out         io.Writer
	w           *plugind.Writer
	batch       int
	updateEvery int
	interval    time.Duration
	machineGUID string
	nodes       map[string]*ndNode
	lastWrite   time.Time
}

type ndNode struct {
	guid string // "" on Netdata without virtual nodes
	// ifaces are sorted by name: a slice of values rather than a map of
	// pointers to them, as the samples come sorted and a router has a
	// few interfaces (16 B less per interface, and one object per node
	// instead of nine).
	ifaces []ndIface
	// typ is the chart type of all the node's charts, shared by its
	// interfaces rather than built for each.
	typ string

	// The agent chart (ifstat.agent): how long the router's agent has
	// not answered, updated by Tick whether or not it answers.
	agentTypeID  string
	agentDefined bool
	firstTick    time.Time // tick of the first sample seen
	lastAnswer   time.Time // tick of the newest answered request
	agentRound   time.Time // tick of the agent chart's last round
}

// ndIface is what the output keeps of one interface: there are 40,000 at
// 5,000 routers, so it holds no string of its own but the sanitised id
// prefix, and the state of sub-second intervals only where there are any.
type ndIface struct {
	name string
	// ids is the sanitised "type.<iface>_" every chart id of the
	// interface begins with; BEGIN appends the chart's suffix. One string
	// per interface, not one per chart: sanitising on every BEGIN was
	// 8 % of the bridge's CPU at 5,000 agents, and a cached id per chart
	// 340 B per interface.
	ids      plugind.TypeIDPrefix
	lastMono int64 // Netdata's model time of these charts, in agent ns
	// speed is the link speed last sent as the net chart's variable
	// link_speed_mbps; speedSent is false until it was sent once.
	speed int64
	// sec is nil at intervals of a second or more.
	sec *ndSecond

	defined bool
	// refreshDefined is set once the refresh chart is defined: only when
	// there is a period to show (refreshShown).
	refreshDefined bool
	// tariffDefined is set once the tariff chart is defined with its
	// dimensions.
	tariffDefined bool
	speedSent     bool
	speedPending  bool
}

// ndSecond collects an interface's sub-second intervals: the results of
// the second ending at end.
type ndSecond struct {
	end         time.Time
	pending     []rate.Result
	pendMono    int64
	pendTariff  *bridge.TariffUsage
	pendRefresh refresh.Estimate
	lastEmitted bool
}

// NewOutput returns an output writing to out for a Netdata with
// features f, charts updated every interval. machineGUID
// (NETDATA_REGISTRY_UNIQUE_ID) seeds the stable GUIDs of virtual nodes.
func NewOutput(out io.Writer, f plugind.Features, interval time.Duration, machineGUID string) *Output {
	ue := int(interval / time.Second)
	if ue < 1 {
		ue = 1
	}
	return &Output{
		out: out, w: plugind.NewWriter(f), updateEvery: ue, interval: interval,
		machineGUID: machineGUID, nodes: make(map[string]*ndNode),
	}
}

func (o *Output) node(name string) *ndNode {
	n := o.nodes[name]
	if n != nil {
		return n
	}
	n = &ndNode{}
	o.nodes[name] = n
	typ := "ifstat_" + name
	if o.w.Features().VirtualNodes {
		n.guid = plugind.HostGUID(o.machineGUID, name)
		typ = "ifstat"
	}
	n.typ, n.agentTypeID = typ, plugind.TypeID(typ, "agent")
	return n
}

// Emit writes one node's tick: chart definitions for new interfaces, then a
// round per chart with rates, or empty values (gaps) where there is no rate.
func (o *Output) Emit(ns *bridge.NodeSample, now time.Time) error {
	n := o.node(ns.Node)
	if n.firstTick.IsZero() {
		n.firstTick = ns.Tick
	}
	if !ns.Gap && ns.Tick.After(n.lastAnswer) {
		n.lastAnswer = ns.Tick
	}
	if n.guid != "" {
		// HOST_DEFINE is cheap and idempotent; sending it with every tick
		// would be wasteful, so only when the node is first seen.
		if len(n.ifaces) == 0 {
			o.defineHost(n, ns)
		}
		o.w.Host(n.guid)
	}
	for i := range ns.Ifaces {
		o.emitIface(n, ns, &ns.Ifaces[i])
	}
	if n.guid != "" {
		o.w.Host("")
	}
	if o.w.Len() < o.batch {
		return nil
	}
	return o.flush(now)
}

// Batch makes Emit leave up to n bytes of whole rounds unwritten, for
// Flush to write. A write per router was 7 % of a bridge's CPU at 5,000
// routers; the bridge flushes whenever it has no reply waiting, so a
// round is held for no longer than the burst it came in.
func (o *Output) Batch(n int) { o.batch = n }

// Flush writes what Emit left buffered.
func (o *Output) Flush(now time.Time) error { return o.flush(now) }

func (o *Output) defineHost(n *ndNode, ns *bridge.NodeSample) {
	o.w.HostDefine(n.guid, ns.Node)
	o.w.HostLabel("_hostname", ns.Node)
	o.w.HostLabel("_os", "linux")
	o.w.HostLabel("ifstat_node", ns.Node)
	o.w.HostDefineEnd()
}

// iface returns the state of interface name, added when new. Most are
// added with the node's first sample, which lists sampled interfaces, so
// room for that many is made at once.
func (n *ndNode) iface(name string, sampled int) *ndIface {
	i := sort.Search(len(n.ifaces), func(i int) bool { return n.ifaces[i].name >= name })
	if i == len(n.ifaces) || n.ifaces[i].name != name {
		if n.ifaces == nil {
			n.ifaces = make([]ndIface, 0, sampled)
		}
		n.ifaces = slices.Insert(n.ifaces, i, ndIface{name: name, ids: plugind.NewTypeIDPrefix(n.typ, name+"_")})
	}
	return &n.ifaces[i]
}

func (o *Output) emitIface(n *ndNode, ns *bridge.NodeSample, is *bridge.IfaceSample) {
	f := n.iface(is.Name, len(ns.Ifaces))
	if is.Obsolete {
		if f.defined {
			o.defineCharts(n.typ, is.Name, "obsolete")
			if f.tariffDefined {
				o.defineTariffChart(n.typ, is.Name, nil, "obsolete")
				f.tariffDefined = false
			}
			if f.refreshDefined {
				o.defineRefreshChart(n.typ, is.Name, "obsolete")
				f.refreshDefined = false
			}
			f.defined, f.lastMono = false, 0
			if f.sec != nil {
				f.sec.pending, f.sec.end = f.sec.pending[:0], time.Time{}
			}
			f.speedSent, f.speedPending = false, false
		}
		return
	}
	if is.Absent && !f.defined {
		return
	}
	if !f.defined {
		o.defineCharts(n.typ, is.Name, "")
		f.defined = true
	}
	read := !is.Absent && !ns.Gap
	if read {
		f.noteSpeed(is.SpeedMbps)
	}
	if o.interval < time.Second {
		o.accumulate(f, n.typ, ns, is, read)
		return
	}
	var since time.Duration
	if read {
		if f.lastMono != 0 && ns.Reply.MonoNS > f.lastMono {
			since = time.Duration(ns.Reply.MonoNS - f.lastMono)
		}
		f.lastMono = ns.Reply.MonoNS
	} else if f.lastMono != 0 {
		// No read happened: advance Netdata's model by one interval so
		// the next real round's microseconds stay true.
		since = o.interval
		f.lastMono += int64(o.interval)
	}
	// One result, in an array that stays on the stack: a slice of it per
	// interface and tick was 40,000 allocations of 200 B a second.
	var one [1]rate.Result
	var results []rate.Result
	if read {
		one[0] = is.Result
		results = one[:]
	}
	o.emitRound(f, n.typ, is.Name, since, results, is.Tariff, is.Refresh)
}

// noteSpeed records the link speed the agent reported (0: unknown), to be
// sent as the net chart's variable link_speed_mbps in its next round when
// it is new or changed. The health template that compares the bandwidth
// with the link speed (packaging/netdata/health.d/ifstat.conf) reads it.
func (f *ndIface) noteSpeed(mbps int64) {
	if mbps < 0 {
		mbps = 0
	}
	if f.speedSent && f.speed == mbps {
		return
	}
	f.speed, f.speedSent, f.speedPending = mbps, true, true
}

// accumulate collects the sub-second results of one wall-clock second and
// writes them as one round when the next second begins: Netdata charts
// are per second, so each value is the exact average over the second, and
// a peak chart shows the fastest short interval (a microburst).
func (o *Output) accumulate(f *ndIface, typ string, ns *bridge.NodeSample, is *bridge.IfaceSample, read bool) {
	if f.sec == nil {
		f.sec = &ndSecond{}
	}
	s := f.sec
	// A tick at T covers (T-interval, T]: it belongs to the second that
	// ends at or after T.
	end := ns.Tick.Truncate(time.Second)
	if end.Before(ns.Tick) {
		end = end.Add(time.Second)
	}
	if !s.end.IsZero() && end.After(s.end) {
		since := time.Second
		if s.pendMono != 0 && f.lastMono != 0 && s.pendMono > f.lastMono {
			since = time.Duration(s.pendMono - f.lastMono)
		}
		if s.pendMono != 0 {
			f.lastMono = s.pendMono
		} else if f.lastMono != 0 {
			f.lastMono += int64(time.Second)
		}
		if s.lastEmitted {
			o.emitRound(f, typ, is.Name, since, s.pending, s.pendTariff, s.pendRefresh)
		} else {
			o.emitRound(f, typ, is.Name, 0, s.pending, s.pendTariff, s.pendRefresh)
			s.lastEmitted = true
		}
		s.pending, s.pendMono = s.pending[:0], 0
	}
	s.end = end
	if read {
		s.pending = append(s.pending, is.Result)
		s.pendMono, s.pendTariff, s.pendRefresh = ns.Reply.MonoNS, is.Tariff, is.Refresh
	}
}

// emitRound writes one round of every chart of an interface from the
// results it covers (none: a gap).
func (o *Output) emitRound(f *ndIface, typ, iface string, since time.Duration, results []rate.Result, tu *bridge.TariffUsage, est refresh.Estimate) {
	if tu != nil {
		o.emitTariff(f, typ, iface, tu, since)
	}
	for i, k := range chartKinds {
		o.w.BeginSuffix(f.ids, k.suffix, since)
		for _, d := range []struct {
			id string
			c  rate.Counter
		}{{k.inName, k.in}, {k.outName, k.out}} {
			if sum := rate.Summarize(results, d.c, k.mult, int64(o.interval), est.PeriodNS); sum.Rated > 0 {
				o.w.Set(d.id, satmath.Int64(sum.Average))
			} else {
				o.w.SetEmpty(d.id)
			}
		}
		if i == 0 && f.speedPending {
			o.w.Variable(plugind.ScopeChart, "link_speed_mbps", f.speed)
			f.speedPending = false
		}
		o.w.End()
	}
	if o.interval < time.Second {
		o.w.BeginSuffix(f.ids, "net_peak", since)
		for _, d := range []struct {
			id string
			c  rate.Counter
		}{{"received", rate.RxBytes}, {"sent", rate.TxBytes}} {
			if sum := rate.Summarize(results, d.c, 8, int64(o.interval), est.PeriodNS); sum.Rated > 0 {
				o.w.Set(d.id, satmath.Int64(sum.Peak))
			} else {
				o.w.SetEmpty(d.id)
			}
		}
		o.w.End()
	}
	o.emitRaw(f, since, results)
	o.emitRefresh(f, typ, iface, since, est)
}

// emitRaw writes the non-normalised view (collectl -on): what the counters
// moved in this round, and the span of the agent's clock that covers,
// without dividing. One unit per chart: bytes, packets, and the span in
// ms, which is what the net chart divided by (a round after stale reads
// covers two seconds and counts twice the bytes of its neighbours).
//
// Only rated (OK) intervals are counted. A Gap interval (longer than
// IFSTAT_MAX_GAP, a rebased refresh clock, an ambiguous wrap) is booked to
// the totals (the tariff chart, Home Assistant's byte totals) but is not
// a round: charted per round, an outage of ten minutes would stand as one
// bar six hundred times the height of its neighbours (1.3e9 bytes on the
// old raw chart after an outage), hiding every ordinary round on the
// axis. The raw charts show exactly what the rate charts divide, so both
// are gaps there.
func (o *Output) emitRaw(f *ndIface, since time.Duration, results []rate.Result) {
	var raw rate.Values
	var span int64
	for _, r := range results {
		if r.Status == rate.OK {
			for c := range raw {
				raw[c] += r.Delta[c]
			}
			span += r.DtNS
		}
	}
	for _, ch := range []struct {
		suffix string
		rx, tx rate.Counter
		rxID   string
		txID   string
	}{
		{"raw_bytes", rate.RxBytes, rate.TxBytes, "rx_bytes", "tx_bytes"},
		{"raw_packets", rate.RxPackets, rate.TxPackets, "rx_packets", "tx_packets"},
	} {
		o.w.BeginSuffix(f.ids, ch.suffix, since)
		if span > 0 {
			o.w.Set(ch.rxID, satmath.Int64(raw[ch.rx]))
			o.w.Set(ch.txID, satmath.Int64(raw[ch.tx]))
		} else {
			o.w.SetEmpty(ch.rxID)
			o.w.SetEmpty(ch.txID)
		}
		o.w.End()
	}
	o.w.BeginSuffix(f.ids, "raw_span", since)
	if span > 0 {
		o.w.Set("span", span/1000)
	} else {
		o.w.SetEmpty("span")
	}
	o.w.End()
}

// refreshShown reports whether est says more than the request interval
// does: a confident refresh period, or an at-most bound clearly below the
// interval. Without watch mode the at-most bound is the median spacing of
// reads that all saw the counters move, that is the request interval
// itself give or take the reads' jitter ("at most ≈1000.1 ms" at 1 s):
// charting it would only restate IFSTAT_INTERVAL. With watch mode it is
// the spacing of the agent's watch reads, below the interval, and says
// how fresh each read is. "Clearly" is below 90 % of the interval: the
// spacing of reads jitters by milliseconds, never by a tenth.
func refreshShown(est refresh.Estimate, interval time.Duration) (period, atMost bool) {
	period = est.Confident && est.PeriodNS > 0
	atMost = !period && est.AtMostNS > 0 && est.AtMostNS*10 < int64(interval)*9
	return period, atMost
}

// emitRefresh writes the refresh chart's round, defining the chart first
// when there is at last a period to show. Once defined it stays (a gap
// while nothing is known, e.g. after a reset) until the interface goes.
func (o *Output) emitRefresh(f *ndIface, typ, iface string, since time.Duration, est refresh.Estimate) {
	period, atMost := refreshShown(est, o.interval)
	first := false
	if !f.refreshDefined {
		if !period && !atMost {
			return
		}
		o.defineRefreshChart(typ, iface, "")
		f.refreshDefined, first = true, true
		since = 0 // the chart's first round
	}
	o.w.BeginSuffix(f.ids, "refresh", since)
	if period {
		o.w.Set("period", est.PeriodNS/1000)
	} else {
		o.w.SetEmpty("period")
	}
	if atMost {
		o.w.Set("at_most", est.AtMostNS/1000)
	} else {
		o.w.SetEmpty("at_most")
	}
	if first {
		// The request interval, for the health template that warns
		// when the counters refresh more slowly than they are asked.
		o.w.Variable(plugind.ScopeChart, "request_interval_ms", int64(o.interval/time.Millisecond))
	}
	o.w.End()
}

func (o *Output) defineCharts(typ, iface, options string) {
	defer o.defineExtraCharts(typ, iface, options)
	for _, k := range chartKinds {
		o.w.Chart(plugind.ChartOpts{
			Type: typ, ID: iface + "_" + k.suffix, Title: k.title + " (" + iface + ")", Units: k.units,
			Family: iface, Context: k.context, ChartType: k.chartType, Priority: k.priority,
			UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
		})
		o.w.Dimension(plugind.DimensionOpts{ID: k.inName, Name: k.inName, Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
		o.w.Dimension(plugind.DimensionOpts{ID: k.outName, Name: k.outName, Algorithm: plugind.AlgAbsolute, Multiplier: -1, Divisor: 1000})
		o.ifaceLabel(iface)
	}
}

// Tick writes a round of every node's agent chart (context ifstat.agent):
// the seconds since the router's agent last answered a request, 0 while it
// answers every one. It runs on the bridge's clock, so the chart goes on
// when the agent is gone and sends nothing at all (after its will, the
// bridge no longer asks it), which is what the health template "router
// not answering" watches. At sub-second intervals it writes once per
// second. Nodes are those seen since the bridge started.
func (o *Output) Tick(t, now time.Time) error {
	names := make([]string, 0, len(o.nodes))
	for name := range o.nodes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		n := o.nodes[name]
		if n.firstTick.IsZero() || !t.After(n.firstTick) {
			continue
		}
		if o.interval < time.Second && t.Truncate(time.Second).Equal(n.agentRound.Truncate(time.Second)) {
			continue
		}
		if n.guid != "" {
			o.w.Host(n.guid)
		}
		var since time.Duration
		if !n.agentDefined {
			o.defineAgentChart(n, name)
			n.agentDefined = true
		} else {
			since = t.Sub(n.agentRound)
			if o.interval < time.Second {
				// One round per wall-clock second, whole seconds apart.
				since = t.Truncate(time.Second).Sub(n.agentRound.Truncate(time.Second))
			}
		}
		n.agentRound = t
		// The request answered last is that of the tick before t; one
		// never answered counts from just before the node was seen.
		last := n.lastAnswer
		if last.IsZero() {
			last = n.firstTick.Add(-o.interval)
		}
		silent := max(t.Sub(last)-o.interval, 0)
		o.w.Begin(n.agentTypeID, since)
		o.w.Set("no_reply", silent.Milliseconds())
		o.w.End()
		if n.guid != "" {
			o.w.Host("")
		}
	}
	return o.flush(now)
}

func (o *Output) defineAgentChart(n *ndNode, node string) {
	o.w.Chart(plugind.ChartOpts{
		Type: n.typ, ID: "agent", Title: "Seconds since the router agent last answered (" + node + ")", Units: "seconds",
		Family: "agent", Context: "ifstat.agent", ChartType: plugind.ChartLine, Priority: 6999,
		UpdateEvery: o.updateEvery, Plugin: "ifstat", Module: "mqtt",
	})
	o.w.Dimension(plugind.DimensionOpts{ID: "no_reply", Name: "no_reply", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.w.CLabel("ifstat_node", node, plugind.LabelSourceAuto)
	o.w.CLabelCommit()
}

// Keepalive writes an empty line when nothing was written for half a
// minute: Netdata 1.41 and later drop a plugin silent for two minutes.
func (o *Output) Keepalive(now time.Time) error {
	if now.Sub(o.lastWrite) < 30*time.Second {
		return nil
	}
	o.w.EmptyLine()
	return o.flush(now)
}

func (o *Output) flush(now time.Time) error {
	if o.w.Len() == 0 {
		return nil
	}
	o.lastWrite = now
	return o.w.Flush(o.out)
}

// emitTariff writes the interface's usage in the current billing cycle per
// tariff (both directions, in bytes shown as MB): one dimension per tariff.
func (o *Output) emitTariff(f *ndIface, typ, iface string, u *bridge.TariffUsage, since time.Duration) {
	if !f.tariffDefined {
		o.defineTariffChart(typ, iface, u.Tariffs, "")
		// A usage without tariffs defines no dimension: the chart is
		// defined again with the first that has some.
		f.tariffDefined = len(u.Tariffs) > 0
	}
	o.w.BeginSuffix(f.ids, "tariff", since)
	for _, t := range u.Tariffs {
		o.w.Set(t.Name, satmath.Int64(t.Current.Rx+t.Current.Tx))
	}
	o.w.End()
}

func (o *Output) defineTariffChart(typ, iface string, tariffs []bridge.TariffTotals, options string) {
	o.w.Chart(plugind.ChartOpts{
		Type: typ, ID: iface + "_tariff", Title: "Traffic this billing cycle by tariff (" + iface + ")", Units: "MB",
		Family: iface, Context: "ifstat.tariff", ChartType: plugind.ChartStacked, Priority: 7004,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	for _, t := range tariffs {
		o.w.Dimension(plugind.DimensionOpts{ID: t.Name, Name: t.Name, Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1_000_000})
	}
}

// defineRefreshChart defines the refresh-period chart.
func (o *Output) defineRefreshChart(typ, iface, options string) {
	o.w.Chart(plugind.ChartOpts{
		Type: typ, ID: iface + "_refresh", Title: "Counter refresh period (" + iface + ")", Units: "ms",
		Family: iface, Context: "ifstat.refresh", ChartType: plugind.ChartLine, Priority: 7005,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	o.w.Dimension(plugind.DimensionOpts{ID: "period", Name: "period", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.w.Dimension(plugind.DimensionOpts{ID: "at_most", Name: "at most", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.ifaceLabel(iface)
}

// ifaceLabel labels the chart just defined with its interface, as every
// chart of an interface is, so one label filter finds them all.
func (o *Output) ifaceLabel(iface string) {
	o.w.CLabel("interface", iface, plugind.LabelSourceAuto)
	o.w.CLabelCommit()
}

// defineExtraCharts defines the raw charts and, for sub-second intervals,
// the peak chart. Dimension ids of the raw charts are the counters' names
// (tools read them from the stream), their names those of the rate
// charts; sent is drawn negative as there.
func (o *Output) defineExtraCharts(typ, iface, options string) {
	for _, c := range []struct {
		suffix, context, title, units string
		priority                      int
		rxID, txID                    string
	}{
		{"raw_bytes", "ifstat.raw_bytes", "Bytes counted per round, not divided by time", "bytes", 7006, "rx_bytes", "tx_bytes"},
		{"raw_packets", "ifstat.raw_packets", "Packets counted per round, not divided by time", "packets", 7007, "rx_packets", "tx_packets"},
	} {
		o.w.Chart(plugind.ChartOpts{
			Type: typ, ID: iface + "_" + c.suffix, Title: c.title + " (" + iface + ")", Units: c.units,
			Family: iface, Context: c.context, ChartType: plugind.ChartLine, Priority: c.priority,
			UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
		})
		o.w.Dimension(plugind.DimensionOpts{ID: c.rxID, Name: "received", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1})
		o.w.Dimension(plugind.DimensionOpts{ID: c.txID, Name: "sent", Algorithm: plugind.AlgAbsolute, Multiplier: -1, Divisor: 1})
		o.ifaceLabel(iface)
	}
	o.w.Chart(plugind.ChartOpts{
		Type: typ, ID: iface + "_raw_span", Title: "Time the raw counts cover (" + iface + ")", Units: "ms",
		Family: iface, Context: "ifstat.raw_span", ChartType: plugind.ChartLine, Priority: 7008,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	o.w.Dimension(plugind.DimensionOpts{ID: "span", Name: "span", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.ifaceLabel(iface)
	if o.interval >= time.Second {
		return
	}
	o.w.Chart(plugind.ChartOpts{
		Type: typ, ID: iface + "_net_peak", Title: "Peak short-interval bandwidth (" + iface + ")", Units: "kilobits/s",
		Family: iface, Context: "ifstat.net_peak", ChartType: plugind.ChartLine, Priority: 7001,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	o.w.Dimension(plugind.DimensionOpts{ID: "received", Name: "received", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.w.Dimension(plugind.DimensionOpts{ID: "sent", Name: "sent", Algorithm: plugind.AlgAbsolute, Multiplier: -1, Divisor: 1000})
	o.ifaceLabel(iface)
}
