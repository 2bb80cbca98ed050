package bridge

import (
	"io"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/plugind"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/refresh"
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

var chartKinds = []chartKind{
	{"net", "ifstat.net", "Bandwidth", "kilobits/s", 7000, plugind.ChartArea, rate.RxBytes, rate.TxBytes, "received", "sent", 8},
	{"packets", "ifstat.packets", "Packets", "packets/s", 7001, plugind.ChartLine, rate.RxPackets, rate.TxPackets, "received", "sent", 1000},
	{"errors", "ifstat.errors", "Interface Errors", "errors/s", 7002, plugind.ChartLine, rate.RxErrors, rate.TxErrors, "inbound", "outbound", 1000},
	{"drops", "ifstat.drops", "Interface Drops", "drops/s", 7003, plugind.ChartLine, rate.RxDropped, rate.TxDropped, "inbound", "outbound", 1000},
}

// NetdataOutput writes NodeSamples as Netdata's plugins.d protocol: one
// virtual node per router where Netdata has them (1.39 and newer), else
// charts on Netdata's own host with the router in the chart type. Each
// NodeSample is committed with one Write.
type NetdataOutput struct {
	out         io.Writer
	w           *plugind.Writer
	updateEvery int
	interval    time.Duration
	machineGUID string
	nodes       map[string]*ndNode
	lastWrite   time.Time
}

type ndNode struct {
	guid   string // "" on Netdata without virtual nodes
	ifaces map[string]*ndIface
}

type ndIface struct {
	defined  bool
	typ, id  string // chart type and id prefix
	lastMono int64  // Netdata's model time of these charts, in agent ns
	// typeIDs caches the sanitised "type.id" per chart kind: sanitising
	// on every BEGIN was 8 % of the bridge's CPU at 5,000 agents.
	typeIDs [4]string
	// tariffs are the dimension ids of the tariff chart, once defined.
	tariffs []string

	// Sub-second intervals: the results of the second ending at secEnd.
	secEnd      time.Time
	pending     []rate.Result
	pendMono    int64
	pendTariff  *TariffUsage
	pendRefresh refresh.Estimate
	lastEmitted bool
}

// NewNetdataOutput returns an output writing to out for a Netdata with
// features f, charts updated every interval. machineGUID
// (NETDATA_REGISTRY_UNIQUE_ID) seeds the stable GUIDs of virtual nodes.
func NewNetdataOutput(out io.Writer, f plugind.Features, interval time.Duration, machineGUID string) *NetdataOutput {
	ue := int(interval / time.Second)
	if ue < 1 {
		ue = 1
	}
	return &NetdataOutput{
		out: out, w: plugind.NewWriter(f), updateEvery: ue, interval: interval,
		machineGUID: machineGUID, nodes: make(map[string]*ndNode),
	}
}

func (o *NetdataOutput) node(name string) *ndNode {
	n := o.nodes[name]
	if n != nil {
		return n
	}
	n = &ndNode{ifaces: make(map[string]*ndIface)}
	o.nodes[name] = n
	if o.w.Features().VirtualNodes {
		n.guid = plugind.HostGUID(o.machineGUID, name)
	}
	return n
}

// Emit writes one node's tick: chart definitions for new interfaces, then a
// round per chart with rates, or empty values (gaps) where there is no rate.
func (o *NetdataOutput) Emit(ns *NodeSample, now time.Time) error {
	n := o.node(ns.Node)
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
	return o.flush(now)
}

func (o *NetdataOutput) defineHost(n *ndNode, ns *NodeSample) {
	o.w.HostDefine(n.guid, ns.Node)
	o.w.HostLabel("_hostname", ns.Node)
	o.w.HostLabel("_os", "linux")
	o.w.HostLabel("ifstat_node", ns.Node)
	o.w.HostDefineEnd()
}

func (o *NetdataOutput) emitIface(n *ndNode, ns *NodeSample, is *IfaceSample) {
	f := n.ifaces[is.Name]
	if f == nil {
		f = &ndIface{typ: "ifstat", id: is.Name}
		if n.guid == "" {
			f.typ = "ifstat_" + ns.Node
		}
		for i, k := range chartKinds {
			f.typeIDs[i] = plugind.TypeID(f.typ, f.id+"_"+k.suffix)
		}
		n.ifaces[is.Name] = f
	}
	if is.Obsolete {
		if f.defined {
			o.defineCharts(f, is.Name, "obsolete")
			if f.tariffs != nil {
				o.defineTariffChart(f, is.Name, nil, "obsolete")
				f.tariffs = nil
			}
			f.defined, f.lastMono, f.pending, f.secEnd = false, 0, f.pending[:0], time.Time{}
		}
		return
	}
	if is.Absent && !f.defined {
		return
	}
	if !f.defined {
		o.defineCharts(f, is.Name, "")
		f.defined = true
	}
	read := !is.Absent && !ns.Gap
	if o.interval < time.Second {
		o.accumulate(f, ns, is, read)
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
	var results []rate.Result
	if read {
		results = append(f.pending[:0], is.Result)
	}
	o.emitRound(f, is.Name, since, results, is.Tariff, is.Refresh)
}

// accumulate collects the sub-second results of one wall-clock second and
// writes them as one round when the next second begins: Netdata charts
// are per second, so each value is the exact average over the second, and
// a peak chart shows the fastest short interval (a microburst).
func (o *NetdataOutput) accumulate(f *ndIface, ns *NodeSample, is *IfaceSample, read bool) {
	// A tick at T covers (T-interval, T]: it belongs to the second that
	// ends at or after T.
	end := ns.Tick.Truncate(time.Second)
	if end.Before(ns.Tick) {
		end = end.Add(time.Second)
	}
	if !f.secEnd.IsZero() && end.After(f.secEnd) {
		since := time.Second
		if f.pendMono != 0 && f.lastMono != 0 && f.pendMono > f.lastMono {
			since = time.Duration(f.pendMono - f.lastMono)
		}
		if f.pendMono != 0 {
			f.lastMono = f.pendMono
		} else if f.lastMono != 0 {
			f.lastMono += int64(time.Second)
		}
		if f.lastEmitted {
			o.emitRound(f, is.Name, since, f.pending, f.pendTariff, f.pendRefresh)
		} else {
			o.emitRound(f, is.Name, 0, f.pending, f.pendTariff, f.pendRefresh)
			f.lastEmitted = true
		}
		f.pending, f.pendMono = f.pending[:0], 0
	}
	f.secEnd = end
	if read {
		f.pending = append(f.pending, is.Result)
		f.pendMono, f.pendTariff, f.pendRefresh = ns.Reply.MonoNS, is.Tariff, is.Refresh
	}
}

// emitRound writes one round of every chart of an interface from the
// results it covers (none: a gap).
func (o *NetdataOutput) emitRound(f *ndIface, iface string, since time.Duration, results []rate.Result, tu *TariffUsage, est refresh.Estimate) {
	if tu != nil {
		o.emitTariff(f, iface, tu, since)
	}
	for i, k := range chartKinds {
		o.w.Begin(f.typeIDs[i], since)
		for _, d := range []struct {
			id string
			c  rate.Counter
		}{{k.inName, k.in}, {k.outName, k.out}} {
			if sum := rate.Summarize(results, d.c, k.mult, int64(o.interval), est.PeriodNS); sum.Rated > 0 {
				o.w.Set(d.id, clampInt64(sum.Average))
			} else {
				o.w.SetEmpty(d.id)
			}
		}
		o.w.End()
	}
	if o.interval < time.Second {
		o.w.Begin(plugind.TypeID(f.typ, f.id+"_net_peak"), since)
		for _, d := range []struct {
			id string
			c  rate.Counter
		}{{"received", rate.RxBytes}, {"sent", rate.TxBytes}} {
			if sum := rate.Summarize(results, d.c, 8, int64(o.interval), est.PeriodNS); sum.Rated > 0 {
				o.w.Set(d.id, clampInt64(sum.Peak))
			} else {
				o.w.SetEmpty(d.id)
			}
		}
		o.w.End()
	}
	// The non-normalised view (collectl -on): what the counters moved
	// in this round and over how long, without dividing.
	o.w.Begin(plugind.TypeID(f.typ, f.id+"_raw"), since)
	var raw rate.Values
	var span int64
	for _, r := range results {
		if r.Status == rate.OK || r.Status == rate.Gap {
			for c := range raw {
				raw[c] += r.Delta[c]
			}
			span += r.DtNS
		}
	}
	if span > 0 {
		o.w.Set("rx_bytes", clampInt64(raw[rate.RxBytes]))
		o.w.Set("tx_bytes", clampInt64(raw[rate.TxBytes]))
		o.w.Set("rx_packets", clampInt64(raw[rate.RxPackets]))
		o.w.Set("tx_packets", clampInt64(raw[rate.TxPackets]))
		o.w.Set("span", span/1000)
	} else {
		for _, id := range []string{"rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "span"} {
			o.w.SetEmpty(id)
		}
	}
	o.w.End()
	o.w.Begin(plugind.TypeID(f.typ, f.id+"_refresh"), since)
	switch {
	case est.Confident && est.PeriodNS > 0:
		o.w.Set("period", est.PeriodNS/1000)
		o.w.SetEmpty("at_most")
	case est.AtMostNS > 0:
		o.w.SetEmpty("period")
		o.w.Set("at_most", est.AtMostNS/1000)
	default:
		o.w.SetEmpty("period")
		o.w.SetEmpty("at_most")
	}
	o.w.End()
}

func (o *NetdataOutput) defineCharts(f *ndIface, iface, options string) {
	defer o.defineExtraCharts(f, iface, options)
	for _, k := range chartKinds {
		o.w.Chart(plugind.ChartOpts{
			Type: f.typ, ID: f.id + "_" + k.suffix, Title: k.title + " (" + iface + ")", Units: k.units,
			Family: iface, Context: k.context, ChartType: k.chartType, Priority: k.priority,
			UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
		})
		o.w.Dimension(plugind.DimensionOpts{ID: k.inName, Name: k.inName, Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
		o.w.Dimension(plugind.DimensionOpts{ID: k.outName, Name: k.outName, Algorithm: plugind.AlgAbsolute, Multiplier: -1, Divisor: 1000})
		o.w.CLabel("interface", iface, plugind.LabelSourceAuto)
		o.w.CLabelCommit()
	}
}

// Keepalive writes an empty line when nothing was written for half a
// minute: Netdata 1.41 and later drop a plugin silent for two minutes.
func (o *NetdataOutput) Keepalive(now time.Time) error {
	if now.Sub(o.lastWrite) < 30*time.Second {
		return nil
	}
	o.w.EmptyLine()
	return o.flush(now)
}

func (o *NetdataOutput) flush(now time.Time) error {
	if o.w.Len() == 0 {
		return nil
	}
	o.lastWrite = now
	return o.w.Flush(o.out)
}

func clampInt64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}

// emitTariff writes the interface's usage in the current billing cycle per
// tariff (both directions, in bytes shown as MB): one dimension per tariff.
func (o *NetdataOutput) emitTariff(f *ndIface, iface string, u *TariffUsage, since time.Duration) {
	if f.tariffs == nil {
		for _, t := range u.Tariffs {
			f.tariffs = append(f.tariffs, t.Name)
		}
		o.defineTariffChart(f, iface, f.tariffs, "")
	}
	o.w.Begin(plugind.TypeID(f.typ, f.id+"_tariff"), since)
	for _, t := range u.Tariffs {
		o.w.Set(t.Name, clampInt64(t.Current.Rx+t.Current.Tx))
	}
	o.w.End()
}

func (o *NetdataOutput) defineTariffChart(f *ndIface, iface string, tariffs []string, options string) {
	o.w.Chart(plugind.ChartOpts{
		Type: f.typ, ID: f.id + "_tariff", Title: "Traffic this billing cycle by tariff (" + iface + ")", Units: "MB",
		Family: iface, Context: "ifstat.tariff", ChartType: plugind.ChartStacked, Priority: 7004,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	for _, t := range tariffs {
		o.w.Dimension(plugind.DimensionOpts{ID: t, Name: t, Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1_000_000})
	}
}

// defineExtraCharts defines the refresh-period chart and, for sub-second
// intervals, the peak chart.
func (o *NetdataOutput) defineExtraCharts(f *ndIface, iface, options string) {
	o.w.Chart(plugind.ChartOpts{
		Type: f.typ, ID: f.id + "_refresh", Title: "Counter refresh period (" + iface + ")", Units: "ms",
		Family: iface, Context: "ifstat.refresh", ChartType: plugind.ChartLine, Priority: 7005,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	o.w.Dimension(plugind.DimensionOpts{ID: "period", Name: "period", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.w.Dimension(plugind.DimensionOpts{ID: "at_most", Name: "at most", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.w.Chart(plugind.ChartOpts{
		Type: f.typ, ID: f.id + "_raw", Title: "Counter deltas per round, not divided by time (" + iface + ")", Units: "count",
		Family: iface, Context: "ifstat.raw", ChartType: plugind.ChartLine, Priority: 7006,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	for _, id := range []string{"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"} {
		o.w.Dimension(plugind.DimensionOpts{ID: id, Name: id, Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1})
	}
	o.w.Dimension(plugind.DimensionOpts{ID: "span", Name: "span ms", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	if o.interval >= time.Second {
		return
	}
	o.w.Chart(plugind.ChartOpts{
		Type: f.typ, ID: f.id + "_net_peak", Title: "Peak short-interval bandwidth (" + iface + ")", Units: "kilobits/s",
		Family: iface, Context: "ifstat.net_peak", ChartType: plugind.ChartLine, Priority: 7001,
		UpdateEvery: o.updateEvery, Options: options, Plugin: "ifstat", Module: "mqtt",
	})
	o.w.Dimension(plugind.DimensionOpts{ID: "received", Name: "received", Algorithm: plugind.AlgAbsolute, Multiplier: 1, Divisor: 1000})
	o.w.Dimension(plugind.DimensionOpts{ID: "sent", Name: "sent", Algorithm: plugind.AlgAbsolute, Multiplier: -1, Divisor: 1000})
}
