package haout

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/satmath"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// QoS levels of what Output publishes.
const (
	// ConfigQoS is used for discovery configs and their removals: retained
	// and at least once, so HA and the broker both end up with them.
	ConfigQoS = 1
	// StateQoS is used for state messages: a lost one is replaced by the
	// next window's, and expire_after covers a run of losses.
	StateQoS = 0
)

// maxPendingWindows bounds the windows kept per router while waiting for a
// Tick; beyond it the oldest is published early. Only a bridge that never
// calls Tick reaches it.
const maxPendingWindows = 4

// BirthStateDelay is how long Birth waits, once its configs are out, before
// it publishes the states. HA creates an entity only after processing its
// config, and subscribes to the state topic after that, batched by its
// MQTT client: up to 1 s after (re)connecting (INITIAL_SUBSCRIBE_COOLDOWN
// in components/mqtt/client.py), 0.1 s otherwise (SUBSCRIBE_COOLDOWN). A
// state arriving before the subscription is lost (states are not
// retained), and the entity shows nothing until the next window. 1.5 s
// covers the longer cooldown plus HA's processing of a few hundred
// configs, and is still well below a window (10 s by default).
const BirthStateDelay = 1500 * time.Millisecond

// configWait bounds the wait for Birth's config tokens; a broker that does
// not acknowledge within it gets the states anyway.
const configWait = 10 * time.Second

// ConfigsPerSecond is the rate at which Tick sends queued discovery
// configs. A router has about 106 configs, and a bridge that meets 5,000
// routers at start-up has half a million to send; sent at once, inside the
// loop goroutine, they delay the request rounds. 4,000 a second is about 38
// routers a second: with a 1 s tick, a few milliseconds of the loop's time
// per tick (publishing one config through paho costs a few microseconds),
// few enough that HA's own discovery (one entity created per config, on
// one event loop) keeps up, and enough that 1,000 routers are all in HA
// within half a minute and 5,000 within about two and a quarter minutes.
const ConfigsPerSecond = 4000

// maxRejected bounds the remembered invalid interface names per router, so
// an agent that invents names cannot grow memory.
const maxRejected = 256

// Output is the bridge's Home Assistant output. The bridge calls its
// methods from its loop goroutine; mu is there for Birth's own goroutine,
// which publishes the last states once the configs are acknowledged, while
// the loop goes on.
type Output struct {
	opts        discovery.Options
	interval    time.Duration
	pub         bridge.Publisher
	removeAfter time.Duration
	log         *logrus.Entry
	limiter     *logx.Limiter

	mu    sync.Mutex
	nodes map[string]*router
	// bridges is how many bridges share the fleet's configs rate (Fleet).
	bridges int

	// birthDelay is BirthStateDelay; tests shorten it.
	birthDelay time.Duration
	// births counts Birth calls: a state batch of an older Birth is
	// dropped, the newer one sends.
	births uint64
	// birthWG tracks Birth's state goroutines (tests wait on it).
	birthWG sync.WaitGroup

	// queue holds the routers whose configs are to be sent, oldest first,
	// each at most once; Tick sends them at ConfigsPerSecond. The configs
	// are built when sent, so the newest set wins and an interface removed
	// meanwhile is not brought back.
	queue []*router
	// lastTick is the bridge time of the previous Tick, for the budget.
	lastTick time.Time
	// birthStates are the last states Birth still has to republish, by
	// node: each goes out once its router's requeued configs were sent.
	birthStates map[string]*discovery.State
}

// TokenPublisher is a bridge.Publisher that also returns paho's token for a
// message. With one, Birth publishes its states only after every config's
// token completed (QoS 1: the broker acknowledged it); without, it relies
// on BirthStateDelay alone.
type TokenPublisher interface {
	bridge.Publisher
	PublishToken(topic string, qos byte, retained bool, payload []byte) mqtt.Token
}

// router is what Output remembers of one agent.
type router struct {
	node    string
	invalid bool // node id rejected by discovery: nothing is published
	info    *wire.Info
	// ifaces are the configured interfaces, sorted by raw name (the order
	// discovery gets them in); every pending window's accs are indexed
	// alike. A slice rather than a map: a router has a handful of
	// interfaces, and a window then needs no map of its own.
	ifaces []iface
	// rejected remembers the names accept refused; nil until one is, as
	// for most routers.
	rejected map[string]bool
	// configured is set once the router's configs were published. Until
	// then its windows are dropped unpublished: HA has no entity for them.
	configured bool
	// queued is set while the router is in Output.queue.
	queued bool
	// key is the discovery.ConfigsKey of the configs last sent, 0 before
	// any; adopted is the key of configs another bridge of the fleet
	// left retained (AdoptCopy), 0 when none or already used.
	key, adopted uint64
	// tariffs is the tariff set of the latest samples that carried one;
	// every interface gets its entities.
	tariffs []discovery.Tariff

	// windows are the pending windows, oldest first: usually one; more
	// when samples come late or Tick is not called.
	windows []window
	// spare is the accs of the last published window, cleared: the next
	// window takes them instead of allocating its own, so a router's
	// accumulators are allocated once, not once per window.
	spare     []acc
	published int64            // end of the last published window, Unix ns
	lastReply time.Time        // bridge time of the last matched reply
	lastState *discovery.State // for Birth
}

// iface is what Output keeps of one configured interface: its name and
// the latest of what its samples said, for a window it has no sample in.
// The state message only carries the byte totals, so only they are kept.
type iface struct {
	name             string
	rxBytes, txBytes uint64
	tariff           *discovery.TariffState // latest; nil without tariffs
	refresh          refreshState           // latest
	// absentNS is the tick (Unix ns) of the first absent reply, while
	// absent is set. Ticks are wall-clock instants without a monotonic
	// reading (the bridge's clock builds them from Unix ns, and windowEnd
	// relies on it too), so a difference of Unix ns is what Time.Sub gives.
	absentNS int64
	absent   bool
}

// refreshState is what the state message says of the counter's refresh
// clock, resolved from the sample's estimate (see newRefreshState) when the
// sample comes: three fields instead of the whole estimate, in every
// interface and window.
type refreshState struct {
	period, atMost time.Duration
	tooCoarse      bool
}

// window accumulates one HA window of one router.
type window struct {
	end  int64 // Unix ns
	accs []acc // by index in router.ifaces
}

// acc sums the rated intervals of one interface within a window. Its zero
// value is an interface with no sample in the window.
type acc struct {
	delta rate.Values
	dtNS  int64
	// rxBytes and txBytes are the latest totals in the window, if seen.
	rxBytes, txBytes uint64
	// tariff is the latest tariff usage in the window, nil if none came.
	tariff *discovery.TariffState
	// refresh is the latest refresh state in the window, if seen.
	refresh refreshState
	// rx and tx are the running peaks: folding one result at a time
	// keeps a window's memory constant however short the interval, and
	// gives exactly rate.Summarize's Peak over the window's results (see
	// peak.add).
	rx, tx peak
	rated  bool
	seen   bool // rxBytes, txBytes and refresh are set
}

// peak is the highest rate of one rated interval so far, bits/s, and
// that interval's span.
type peak struct {
	bps    uint64
	spanNS int64
}

// set reports whether the peak holds an interval. A rated interval has a
// positive span (Summarize rates no other, and add keeps no other), so
// the span tells, and every acc is a flag and its padding smaller.
func (p peak) set() bool { return p.spanNS > 0 }

// add folds one result into the peak of counter c through rate.Summarize,
// so that what counts as a rated interval, and its rate, is the rate
// package's rule, the one the Netdata peak chart uses. Ties keep the
// earlier interval, as Summarize does.
func (p *peak) add(res *rate.Result, c rate.Counter, intervalNS int64) {
	s := rate.Summarize([]rate.Result{*res}, c, 8, intervalNS, 0)
	if s.Rated == 0 || s.PeakSpanNS <= 0 {
		return
	}
	if !p.set() || s.Peak > p.bps {
		p.bps, p.spanNS = s.Peak, s.PeakSpanNS
	}
}

// New returns an output publishing through pub. removeAfter is how long an
// interface may be missing from its agent's replies before its entities are
// removed; 0 leaves removal to the sampler's Obsolete flag alone. log may
// be nil (nothing is logged).
func New(o discovery.Options, pub bridge.Publisher, removeAfter time.Duration, log *logrus.Entry) (*Output, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if pub == nil {
		return nil, errors.New("home assistant output: nil publisher")
	}
	if removeAfter < 0 {
		return nil, errors.New("home assistant output: negative remove-after")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	interval := o.Interval
	if interval == 0 {
		interval = discovery.DefaultInterval
	}
	return &Output{
		opts: o, interval: interval, pub: pub, removeAfter: removeAfter,
		log:        log,
		limiter:    logx.NewLimiter(1, time.Hour, nil),
		nodes:      make(map[string]*router),
		birthDelay: BirthStateDelay,
	}, nil
}

func (o *Output) topicPrefix() string {
	if o.opts.TopicPrefix == "" {
		return wire.DefaultPrefix
	}
	return o.opts.TopicPrefix
}

// windowEnd returns ceil(t / interval) × interval in Unix ns: the end of
// the HA window a sample at tick t belongs to.
func (o *Output) windowEnd(t time.Time) int64 {
	ns, iv := t.UnixNano(), int64(o.interval)
	q := ns / iv
	if ns%iv > 0 {
		q++ // Go truncates toward zero; for negative ns that is already the ceiling
	}
	return q * iv
}

func (o *Output) router(node string) *router {
	r := o.nodes[node]
	if r == nil {
		r = &router{node: node}
		if !wire.ValidNode(node) {
			r.invalid = true
			o.limiter.Warn(o.log.WithField("node", node), "node:"+node, "node id not usable in home assistant; router skipped")
		}
		o.nodes[node] = r
	}
	return r
}

// Emit books one tick of one router. It never fails: nothing it publishes
// can end the bridge.
func (o *Output) Emit(ns *bridge.NodeSample, now time.Time) error {
	if ns == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.router(ns.Node)
	if r.invalid {
		return nil
	}
	changed := !r.configured
	if ns.Copy != nil && !r.configured {
		r.adopted = o.copyIn(ns.Node, ns.Copy[copyKey])
	}
	if in := ns.Info; in != nil && !sameDevice(r.info, in) {
		cp := *in
		r.info = &cp
		changed = true
	}
	if !ns.Gap && ns.Reply != nil {
		r.lastReply = now
	}

	var w *window
	if end := o.windowEnd(ns.Tick); end > r.published {
		if r.window(end) == nil {
			r.openWindow(end)
			o.trimWindows(r)
		}
		// Looked up again: trimming moved the windows, or published
		// this one if it was the oldest (its samples are then lost, as
		// any sample for a published window).
		w = r.window(end)
	}

	if set, ok := o.tariffSet(r, ns); ok && !slices.Equal(set, r.tariffs) {
		o.retariff(r, set)
		changed = true
	}

	// A router's interfaces usually come all in its first sample: check
	// them together, once, instead of one discovery build per name over
	// a growing list (8 interfaces: 3.9 ms and 1 MB a router, which held
	// up the loop for seconds when a fleet appeared).
	var checked map[string]bool
	if news := newNames(r, ns); len(news) > 1 && o.acceptAll(r, news) {
		checked = make(map[string]bool, len(news))
		for _, name := range news {
			checked[name] = true
		}
	}
	var gone []string
	for k := range ns.Ifaces {
		is := &ns.Ifaces[k]
		i, known := r.find(is.Name)
		switch {
		case is.Obsolete:
			if known {
				gone = append(gone, is.Name)
			}
			continue
		case is.Absent:
			// A gap is a silent agent, not a vanished interface.
			if known && !ns.Gap {
				f := &r.ifaces[i]
				if !f.absent {
					f.absent, f.absentNS = true, ns.Tick.UnixNano()
				}
				if o.removeAfter > 0 && time.Duration(ns.Tick.UnixNano()-f.absentNS) > o.removeAfter {
					gone = append(gone, is.Name)
				}
			}
			continue
		}
		if !known {
			if !checked[is.Name] && !o.accept(r, is.Name) {
				continue
			}
			r.insert(i, is.Name)
			changed = true
		}
		f := &r.ifaces[i]
		f.absent, f.absentNS = false, 0
		f.rxBytes, f.txBytes = is.Result.Total[rate.RxBytes], is.Result.Total[rate.TxBytes]
		if is.Tariff != nil {
			f.tariff = tariffState(is.Tariff)
		}
		f.refresh = newRefreshState(is.Refresh, is.TooCoarse)
		if w != nil {
			w.accs[i].add(&is.Result, f.tariff, f.refresh, int64(o.opts.SampleInterval))
		}
	}
	if len(gone) > 0 {
		o.remove(r, gone)
	}
	if changed {
		o.enqueue(r)
	}
	return nil
}

// find returns the index of the interface named name in r.ifaces, or
// where it would be inserted.
func (r *router) find(name string) (int, bool) {
	return slices.BinarySearchFunc(r.ifaces, name, func(f iface, target string) int { return strings.Compare(f.name, target) })
}

// insert adds interface name at index i of r.ifaces, and an empty acc for
// it in every pending window.
func (r *router) insert(i int, name string) {
	r.ifaces = slices.Insert(r.ifaces, i, iface{name: name})
	for j := range r.windows {
		r.windows[j].accs = slices.Insert(r.windows[j].accs, i, acc{})
	}
}

// delete drops the interface at index i of r.ifaces, and its accs.
func (r *router) delete(i int) {
	r.ifaces = slices.Delete(r.ifaces, i, i+1)
	for j := range r.windows {
		r.windows[j].accs = slices.Delete(r.windows[j].accs, i, i+1)
	}
}

// window returns the pending window ending at end, or nil.
func (r *router) window(end int64) *window {
	for j := range r.windows {
		if r.windows[j].end == end {
			return &r.windows[j]
		}
	}
	return nil
}

// openWindow adds an empty window ending at end, in order, on the spare
// accs if there are.
func (r *router) openWindow(end int64) {
	accs := append(r.spare[:0], make([]acc, len(r.ifaces))...)
	r.spare = nil
	j, _ := slices.BinarySearchFunc(r.windows, end, func(w window, end int64) int { return cmp.Compare(w.end, end) })
	r.windows = slices.Insert(r.windows, j, window{end: end, accs: accs})
}

func (a *acc) add(res *rate.Result, tariff *discovery.TariffState, rs refreshState, intervalNS int64) {
	a.rxBytes, a.txBytes, a.seen = res.Total[rate.RxBytes], res.Total[rate.TxBytes], true
	a.refresh = rs
	if tariff != nil {
		a.tariff = tariff
	}
	a.rx.add(res, rate.RxBytes, intervalNS)
	a.tx.add(res, rate.TxBytes, intervalNS)
	if !res.Rate || res.DtNS <= 0 || a.dtNS > math.MaxInt64-res.DtNS {
		return
	}
	for c := range res.Delta {
		a.delta[c] = satmath.Add(a.delta[c], res.Delta[c])
	}
	a.dtNS += res.DtNS
	a.rated = true
}

// trimWindows publishes (or, for a router not yet configured, drops) the
// oldest windows early when Tick is not being
// called, so memory stays bounded.
func (o *Output) trimWindows(r *router) {
	for len(r.windows) > maxPendingWindows {
		o.publishOldest(r, r.lastReply)
	}
}

// accept reports whether an interface can get entities; a name discovery
// cannot use is logged once and skipped.
func (o *Output) accept(r *router, name string) bool {
	if r.rejected[name] {
		return false
	}
	id := discovery.IfaceID(name)
	var why string
	switch {
	case !wire.ValidIface(name):
		why = "interface name not usable in home assistant; interface skipped"
	case r.idTaken(id, name):
		why = "interface id already taken by another interface; interface skipped"
	default:
		// With the interfaces already configured: an object id may meet
		// another interface's (see discovery's entities).
		ifaces := append(o.names(r), name)
		if _, err := discovery.ConfigTopics(o.opts, discovery.Router{Node: r.node, Ifaces: ifaces, Tariffs: r.tariffs}); err != nil {
			o.limiter.Warn(o.log.WithError(err).WithField("node", r.node).WithField("iface", name), r.node+"/"+name,
				"interface not usable in home assistant; interface skipped")
			o.reject(r, name)
			return false
		}
		return true
	}
	o.limiter.Warn(o.log.WithField("node", r.node).WithField("iface", name).WithField("id", id), r.node+"/"+name, why)
	o.reject(r, name)
	return false
}

// newNames returns the present interfaces of ns that r has not
// configured.
func newNames(r *router, ns *bridge.NodeSample) []string {
	var news []string
	for k := range ns.Ifaces {
		is := &ns.Ifaces[k]
		if is.Obsolete || is.Absent {
			continue
		}
		if _, known := r.find(is.Name); !known {
			news = append(news, is.Name)
		}
	}
	return news
}

// acceptAll reports whether accept would take every one of names, taken
// in turn: each is valid, its id is free, and one discovery build of the
// router with all of them succeeds (a build that succeeds with all
// succeeds with any part of them). When it reports false, accept judges
// each name alone and says why.
func (o *Output) acceptAll(r *router, names []string) bool {
	ids := make(map[string]bool, len(names))
	for _, name := range names {
		if r.rejected[name] || !wire.ValidIface(name) {
			return false
		}
		id := discovery.IfaceID(name)
		if ids[id] || r.idTaken(id, name) {
			return false
		}
		ids[id] = true
	}
	ifaces := append(o.names(r), names...)
	_, err := discovery.ConfigTopics(o.opts, discovery.Router{Node: r.node, Ifaces: ifaces, Tariffs: r.tariffs})
	return err == nil
}

// idTaken reports whether another configured interface than name has id.
// A scan rather than a map by id: it runs only for a name not seen
// before, and a map would hold a second string per interface.
func (r *router) idTaken(id, name string) bool {
	for i := range r.ifaces {
		if n := r.ifaces[i].name; n != name && discovery.IfaceID(n) == id {
			return true
		}
	}
	return false
}

func (o *Output) reject(r *router, name string) {
	if r.rejected == nil {
		r.rejected = make(map[string]bool)
	}
	if len(r.rejected) < maxRejected {
		r.rejected[name] = true
	}
}

// names returns the configured interfaces' names, sorted.
func (o *Output) names(r *router) []string {
	names := make([]string, len(r.ifaces))
	for i := range r.ifaces {
		names[i] = r.ifaces[i].name
	}
	return names
}

// enqueue queues the router's configs for Tick; a router already queued
// keeps its place.
func (o *Output) enqueue(r *router) {
	if r.invalid || r.queued {
		return
	}
	r.queued = true
	o.queue = append(o.queue, r)
}

// configBudget is how many configs Tick may send at now: ConfigsPerSecond
// over the time since the previous Tick, that time taken as at most a
// second, or the sample interval when longer (and as that on the first
// call), so that a stalled loop does not make up for it with a larger
// burst.
func (o *Output) configBudget(now time.Time) int {
	span := max(time.Second, o.opts.SampleInterval)
	if !o.lastTick.IsZero() {
		span = min(span, max(0, now.Sub(o.lastTick)))
	}
	o.lastTick = now
	return int(int64(ConfigsPerSecond) * int64(span) / int64(time.Second) / int64(max(1, o.bridges)))
}

// Fleet takes this bridge's share of ConfigsPerSecond when n bridges
// share the routers (IFSTAT_SHARD=auto). The rate is for the broker and
// for Home Assistant, one each for the whole fleet: three bridges pacing
// at the full rate each sent 12,000 configs a second at start-up and at
// a takeover, and half the replies of a 3,000-router fleet came late
// (scripts/bench-fleet.sh).
func (o *Output) Fleet(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bridges = n
}

// sendQueued sends the configs of queued routers, oldest first, a whole
// router at a time, until the next router would exceed budget; the first
// router always goes, so the queue moves even when one router has more
// configs than the budget. It returns how many configs it sent. A router
// whose last state Birth holds gets that state republished once its
// configs are acknowledged, as Birth would have.
func (o *Output) sendQueued(budget int) int {
	sent, adopted := 0, 0
	var toks []mqtt.Token
	var batch []*router
	for len(o.queue) > 0 {
		r := o.queue[0]
		if o.adopt(r) {
			adopted++
			continue
		}
		msgs := o.configs(r)
		if sent > 0 && sent+len(msgs) > budget {
			break
		}
		o.queue[0] = nil
		o.queue = o.queue[1:]
		r.queued = false
		if msgs == nil {
			continue
		}
		toks = append(toks, o.send(msgs, ConfigQoS)...)
		r.configured, r.key = true, o.key(r)
		sent += len(msgs)
		if o.birthStates[r.node] != nil {
			batch = append(batch, r)
		}
	}
	if len(o.queue) == 0 {
		o.queue = nil // let the backing array go
	}
	if adopted > 0 {
		o.log.WithField("routers", adopted).WithField("configs_sent", sent).WithField("queued", len(o.queue)).
			Info("home assistant configs of routers taken over left as the fleet retained them")
	}
	if len(batch) > 0 {
		o.birthBatch(batch, toks)
	}
	return sent
}

// copyKey names the output's entry in a node's state copy: the
// discovery.ConfigsKey of the configs the bridge sent, 16 hex digits in a
// JSON string.
const copyKey = "ha_configs"

// CopyKey implements bridge.CopyKeeper.
func (o *Output) CopyKey() string { return copyKey }

// CopyOut implements bridge.CopyKeeper: the key of the configs sent for
// node, nil before any were. The copy is published after the configs, on
// the same connection and in order, so a broker that holds the copy holds
// the configs too.
func (o *Output) CopyOut(node string) json.RawMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.nodes[node]
	if r == nil || !r.configured || r.key == 0 {
		return nil
	}
	return strconv.AppendQuote(nil, strconv.FormatUint(r.key, 16))
}

// copyIn parses a key CopyOut wrote; 0 (and a warning) for anything else:
// a copy is input from the network.
func (o *Output) copyIn(node string, v json.RawMessage) uint64 {
	if v == nil {
		return 0
	}
	var hex string
	if err := json.Unmarshal(v, &hex); err == nil {
		if k, err := strconv.ParseUint(hex, 16, 64); err == nil && len(hex) <= 16 {
			return k
		}
	}
	o.limiter.Warn(o.log.WithField("node", node), "copy", "ignoring a malformed "+copyKey+" in the node's state copy")
	return 0
}

// adopt takes the queue's first router out of it as configured, without
// sending anything, if its configs are those a bridge of the fleet left
// retained (AdoptCopy). A takeover of a thousand routers then costs the
// broker and the bridges no configs at all.
func (o *Output) adopt(r *router) bool {
	if r.adopted == 0 || r.configured {
		return false
	}
	k := o.key(r)
	if k != r.adopted {
		return false
	}
	o.queue[0] = nil
	o.queue = o.queue[1:]
	r.queued, r.configured, r.key, r.adopted = false, true, k, 0
	return true
}

func (o *Output) key(r *router) uint64 {
	return discovery.ConfigsKey(o.opts, discovery.Router{Node: r.node, Info: r.info, Ifaces: o.names(r), Tariffs: r.tariffs})
}

// configs builds the router's discovery configs; nil on error.
func (o *Output) configs(r *router) []discovery.Message {
	msgs, err := discovery.Configs(o.opts, discovery.Router{Node: r.node, Info: r.info, Ifaces: o.names(r), Tariffs: r.tariffs})
	if err != nil {
		// accept checked every name; only a bug gets here.
		o.limiter.Warn(o.log.WithError(err).WithField("node", r.node), "configs:"+r.node, "cannot build discovery configs")
		return nil
	}
	return msgs
}

func (o *Output) remove(r *router, gone []string) {
	msgs, err := discovery.Removals(o.opts, r.node, gone, r.tariffs)
	if err != nil {
		o.limiter.Warn(o.log.WithError(err).WithField("node", r.node), "removals:"+r.node, "cannot build discovery removals")
	} else {
		o.send(msgs, ConfigQoS)
	}
	for _, name := range gone {
		if i, ok := r.find(name); ok {
			r.delete(i)
		}
		if r.lastState != nil {
			delete(r.lastState.Ifaces, name)
		}
		o.log.WithField("node", r.node).WithField("iface", name).Info("interface gone; home assistant entities removed")
	}
}

// send publishes msgs; with a TokenPublisher it returns their tokens.
func (o *Output) send(msgs []discovery.Message, qos byte) []mqtt.Token {
	tp, ok := o.pub.(TokenPublisher)
	if !ok {
		for _, m := range msgs {
			o.pub.Publish(m.Topic, qos, m.Retained, m.Payload)
		}
		return nil
	}
	toks := make([]mqtt.Token, 0, len(msgs))
	for _, m := range msgs {
		toks = append(toks, tp.PublishToken(m.Topic, qos, m.Retained, m.Payload))
	}
	return toks
}

// Tick sends queued configs, ConfigsPerSecond's worth (see sendQueued),
// then publishes every window that ended before t. The bridge calls it
// once per clock tick, after the previous tick's gaps were emitted and
// the new requests went out (no reply is handled before Tick returns);
// now is the bridge's clock, for age_s and the config budget.
func (o *Output) Tick(t, now time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sendQueued(o.configBudget(now))
	tNS := t.UnixNano()
	for _, node := range o.sortedNodes() {
		r := o.nodes[node]
		for len(r.windows) > 0 && r.windows[0].end < tNS {
			o.publishOldest(r, now)
		}
	}
	return nil
}

func (o *Output) sortedNodes() []string {
	nodes := make([]string, 0, len(o.nodes))
	for n := range o.nodes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	return nodes
}

// publishOldest sends the state of the router's oldest window and forgets
// it, keeping its accs as the spare. A router whose configs were never
// sent gets no state: its configs go first.
func (o *Output) publishOldest(r *router, now time.Time) {
	w := r.windows[0]
	r.windows = slices.Delete(r.windows, 0, 1)
	defer func() {
		// Cleared now rather than when reused, so the window's tariff
		// usages are not kept alive meanwhile.
		clear(w.accs)
		r.spare = w.accs
	}()
	end := w.end
	r.published = max(r.published, end)
	if !r.configured && !o.opts.Fleet {
		// In a fleet the router's configs are most likely retained
		// already, the same bytes, by the bridge that had it before: its
		// entities must not go stale (expire_after) while this bridge's
		// queue reaches it. For an entity HA does not know, a state is
		// ignored.
		return
	}
	st := discovery.State{
		Time:   time.Unix(0, end).UTC(),
		Window: o.interval,
		Age:    -1,
		Ifaces: make(map[string]discovery.IfaceState, len(r.ifaces)),
	}
	if !r.lastReply.IsZero() {
		st.Age = max(0, now.Sub(r.lastReply))
	}
	// The interfaces' rates and peaks point into one array each, made
	// with room for the interfaces left when first needed: two
	// allocations per window rather than two per interface.
	var rates []discovery.Rates
	var peaks []discovery.Peak
	for i := range r.ifaces {
		f, a := &r.ifaces[i], &w.accs[i]
		is := discovery.IfaceState{RxBytes: f.rxBytes, TxBytes: f.txBytes, Tariff: f.tariff}
		rs := f.refresh
		if a.seen {
			is.RxBytes, is.TxBytes = a.rxBytes, a.txBytes
			rs = a.refresh
		}
		if a.tariff != nil {
			is.Tariff = a.tariff
		}
		if a.rated {
			if rates == nil {
				rates = make([]discovery.Rates, 0, len(r.ifaces)-i)
			}
			rates = append(rates, a.rates())
			is.Rates = &rates[len(rates)-1]
		}
		if p, ok := a.peak(); ok {
			if peaks == nil {
				peaks = make([]discovery.Peak, 0, len(r.ifaces)-i)
			}
			peaks = append(peaks, p)
			is.Peak = &peaks[len(peaks)-1]
		}
		is.Refresh, is.RefreshAtMost, is.TooCoarse = rs.period, rs.atMost, rs.tooCoarse
		st.Ifaces[f.name] = is
	}
	r.lastState = &st
	o.pub.Publish(wire.Topics{Prefix: o.topicPrefix(), Node: r.node}.State(), StateQoS, false, st.Marshal())
}

// rates divides the window's summed deltas by its summed span: the exact
// average over the rated part of the window.
func (a *acc) rates() discovery.Rates {
	per := func(c rate.Counter, mult float64) float64 {
		return float64(a.delta[c]) * mult * 1e9 / float64(a.dtNS)
	}
	return discovery.Rates{
		RxBits: per(rate.RxBytes, 8), TxBits: per(rate.TxBytes, 8),
		RxPackets: per(rate.RxPackets, 1), TxPackets: per(rate.TxPackets, 1),
		RxErrors: per(rate.RxErrors, 1), TxErrors: per(rate.TxErrors, 1),
		RxDrops: per(rate.RxDropped, 1), TxDrops: per(rate.TxDropped, 1),
	}
}

// peak returns the window's peaks; ok is false when it held no rated
// interval. A rate PerSecond saturated is no rate: it is published as null.
func (a *acc) peak() (p discovery.Peak, ok bool) {
	if !a.rx.set() && !a.tx.set() {
		return discovery.Peak{}, false
	}
	bps := func(p peak) float64 {
		if !p.set() || p.bps == math.MaxUint64 {
			return math.NaN()
		}
		return float64(p.bps)
	}
	return discovery.Peak{RxBits: bps(a.rx), TxBits: bps(a.tx), Span: time.Duration(max(a.rx.spanNS, a.tx.spanNS))}, true
}

// newRefreshState turns an estimate into the state message's refresh
// fields: the period only once the bridge trusts it, the upper bound only
// when that is all there is.
func newRefreshState(e refresh.Estimate, tooCoarse bool) refreshState {
	rs := refreshState{tooCoarse: tooCoarse}
	if e.Confident && e.PeriodNS > 0 {
		rs.period = time.Duration(e.PeriodNS)
	}
	if e.PeriodNS == 0 && e.AtMostNS > 0 {
		rs.atMost = time.Duration(e.AtMostNS)
	}
	return rs
}

// Keepalive does nothing: states follow Tick, and expire_after covers a
// bridge that stops.
func (o *Output) Keepalive(time.Time) error { return nil }

// Connected republishes the bridge's config at once and queues every
// router's configs for Tick after a (re)connect: retained configs
// published while disconnected were lost, and a broker without
// persistence forgot the others.
func (o *Output) Connected(time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.publishBridge()
	for _, node := range o.sortedNodes() {
		r := o.nodes[node]
		// Copies read before this connection may be of a broker that
		// since lost its retained configs.
		r.adopted = 0
		if r.configured {
			o.enqueue(r)
		}
	}
}

// Birth answers Home Assistant's "online" on its status topic: the
// bridge's configs at once, every router's configs again through the
// queue, then each router's last state so the entities show a value at
// once instead of waiting for the next window. A router's state goes out
// from a goroutine once Tick sent its configs (their tokens completed,
// with a TokenPublisher) and BirthStateDelay later, so that HA has created
// the entities and subscribed to their state topics; a router whose state
// was published anew in the meantime, or a newer Birth, makes the old
// state moot and it is not sent.
func (o *Output) Birth(time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.publishBridge()
	o.births++
	o.birthStates = make(map[string]*discovery.State)
	for _, node := range o.sortedNodes() {
		r := o.nodes[node]
		if !r.configured {
			continue
		}
		o.enqueue(r)
		if r.lastState != nil {
			o.birthStates[node] = r.lastState
		}
	}
}

// birthBatch republishes the Birth states of routers whose configs were
// just sent with tokens toks, from a goroutine (see Birth). o.mu is held.
func (o *Output) birthBatch(rs []*router, toks []mqtt.Token) {
	nodes := make([]string, 0, len(rs))
	last := make(map[string]*discovery.State, len(rs))
	for _, r := range rs {
		nodes = append(nodes, r.node)
		last[r.node] = o.birthStates[r.node]
		delete(o.birthStates, r.node)
	}
	birth := o.births
	o.birthWG.Add(1)
	go func() {
		defer o.birthWG.Done()
		start := time.Now()
		deadline := start.Add(configWait)
		for _, tok := range toks {
			if !tok.WaitTimeout(max(0, time.Until(deadline))) {
				o.log.Warn("home assistant birth: configs not acknowledged in time; states follow anyway")
				break
			}
		}
		out := time.Since(start)
		time.Sleep(o.birthDelay)
		o.mu.Lock()
		defer o.mu.Unlock()
		if birth != o.births {
			return
		}
		sent := 0
		for _, node := range nodes {
			st := last[node]
			if r := o.nodes[node]; st != nil && r != nil && r.lastState == st {
				o.pub.Publish(wire.Topics{Prefix: o.topicPrefix(), Node: node}.State(), StateQoS, false, st.Marshal())
				sent++
			}
		}
		o.log.WithField("configs", len(toks)).WithField("configs_out", out).WithField("states", sent).
			Debug("home assistant birth: states published after the configs")
	}()
}

// waitBirths waits for the state goroutines of earlier Births (tests).
func (o *Output) waitBirths() { o.birthWG.Wait() }

func (o *Output) publishBridge() []mqtt.Token {
	msgs, err := discovery.BridgeConfigs(o.opts)
	if err != nil {
		// New validated the options; only a bug gets here.
		o.limiter.Warn(o.log.WithError(err), "bridge-configs", "cannot build the bridge's discovery config")
		return nil
	}
	return o.send(msgs, ConfigQoS)
}

// tariffSet returns the tariff set of a sample: that of its first
// interface carrying tariff data (the schedule is the bridge's, the same
// for every interface). ok is false when none does, or when discovery
// refuses the names; the router then keeps its set.
func (o *Output) tariffSet(r *router, ns *bridge.NodeSample) (set []discovery.Tariff, ok bool) {
	for i := range ns.Ifaces {
		u := ns.Ifaces[i].Tariff
		if u == nil {
			continue
		}
		set = make([]discovery.Tariff, 0, len(u.Tariffs))
		for _, t := range u.Tariffs {
			set = append(set, discovery.Tariff{Name: t.Name, Capped: t.Cap > 0})
		}
		if _, err := discovery.ConfigTopics(o.opts, discovery.Router{Node: r.node, Ifaces: o.names(r), Tariffs: set}); err != nil {
			o.limiter.Warn(o.log.WithError(err).WithField("node", r.node), "tariffs:"+r.node, "tariffs not usable in home assistant; tariff entities unchanged")
			return nil, false
		}
		return set, true
	}
	return nil, false
}

// retariff makes set the router's tariff set. Configs of the old set that
// the new one lacks (a renamed tariff, a cap dropped) are removed; the
// caller publishes the new configs.
func (o *Output) retariff(r *router, set []discovery.Tariff) {
	if r.configured {
		names := o.names(r)
		old, err1 := discovery.ConfigTopics(o.opts, discovery.Router{Node: r.node, Ifaces: names, Tariffs: r.tariffs})
		now, err2 := discovery.ConfigTopics(o.opts, discovery.Router{Node: r.node, Ifaces: names, Tariffs: set})
		if err := errors.Join(err1, err2); err != nil {
			o.limiter.Warn(o.log.WithError(err).WithField("node", r.node), "retariff:"+r.node, "cannot build discovery removals")
		} else {
			for _, t := range old {
				if !slices.Contains(now, t) {
					o.pub.Publish(t, ConfigQoS, true, []byte{})
				}
			}
		}
	}
	r.tariffs = set
}

// tariffState copies the bridge's usage into discovery's state shape.
func tariffState(u *bridge.TariffUsage) *discovery.TariffState {
	ts := &discovery.TariffState{Active: u.Active, CycleStart: u.CycleStart, CycleEnd: u.CycleEnd,
		Usage: make([]discovery.TariffUsage, 0, len(u.Tariffs))}
	for _, t := range u.Tariffs {
		ts.Usage = append(ts.Usage, discovery.TariffUsage{
			Name:     t.Name,
			Lifetime: discovery.Bytes{Rx: t.Lifetime.Rx, Tx: t.Lifetime.Tx},
			Cycle:    discovery.Bytes{Rx: t.Current.Rx, Tx: t.Current.Tx},
			Previous: discovery.Bytes{Rx: t.Previous.Rx, Tx: t.Previous.Tx},
			Capped:   t.Cap > 0,
			Share:    t.Share,
		})
	}
	return ts
}

// sameDevice reports whether two descriptions render the same HA device.
func sameDevice(a, b *wire.Info) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Hostname == b.Hostname && a.Version == b.Version && a.OS == b.OS &&
		a.Arch == b.Arch && a.Kernel == b.Kernel
}
