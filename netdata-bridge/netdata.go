package bridge

import (
	"io"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/plugind"
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
			f.defined, f.lastMono = false, 0
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
	var since time.Duration
	switch {
	case is.Absent || ns.Gap:
		// No read happened: advance Netdata's model by one interval so
		// the next real round's microseconds stay true.
		if f.lastMono != 0 {
			since = o.interval
			f.lastMono += int64(o.interval)
		}
	default:
		if f.lastMono != 0 && ns.Reply.MonoNS > f.lastMono {
			since = time.Duration(ns.Reply.MonoNS - f.lastMono)
		}
		f.lastMono = ns.Reply.MonoNS
	}
	res := &is.Result
	ok := !is.Absent && !ns.Gap && res.Rate && res.DtNS > 0
	if is.Tariff != nil {
		o.emitTariff(f, is, since)
	}
	for i, k := range chartKinds {
		o.w.Begin(f.typeIDs[i], since)
		if ok {
			o.w.Set(k.inName, clampInt64(res.PerSecond(k.in, k.mult)))
			o.w.Set(k.outName, clampInt64(res.PerSecond(k.out, k.mult)))
		} else {
			o.w.SetEmpty(k.inName)
			o.w.SetEmpty(k.outName)
		}
		o.w.End()
	}
}

func (o *NetdataOutput) defineCharts(f *ndIface, iface, options string) {
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
func (o *NetdataOutput) emitTariff(f *ndIface, is *IfaceSample, since time.Duration) {
	u := is.Tariff
	if f.tariffs == nil {
		for _, t := range u.Tariffs {
			f.tariffs = append(f.tariffs, t.Name)
		}
		o.defineTariffChart(f, is.Name, f.tariffs, "")
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
