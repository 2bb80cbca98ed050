package bridge

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// Stats counts what the sampler did with requests and replies.
type Stats struct {
	Requests   uint64 // requests sent
	Matched    uint64 // replies matched to their request in time
	Late       uint64 // replies to an earlier tick's request
	Duplicate  uint64 // second reply to the same request
	Unknown    uint64 // replies to requests never sent (or by another bridge)
	Forged     uint64 // replies whose node differs from their topic's
	Unexpected uint64 // replies from agents not being sampled
	Gaps       uint64 // requests left without a reply by the next tick
	Skipped    uint64 // ticks skipped because the bridge was late
}

// IfaceSample is one interface's part of a NodeSample.
type IfaceSample struct {
	Name string
	// Absent is set when the interface was known but missing from this
	// reply (wg0 down, ppp0 redialling): a gap for its charts.
	Absent bool
	// Obsolete is set once, when the interface has been absent longer
	// than SamplerConfig.ObsoleteAfter; outputs drop its charts.
	Obsolete bool
	// SpeedMbps is the link speed the agent reported (wire.Counters),
	// 0 when unknown. The reply's other raw values are in Result; an
	// IfaceSample is made per interface and reply (40,000 a second at
	// 5,000 routers), so it does not copy them.
	SpeedMbps int64
	Result    rate.Result
	// Tariff is the interface's traffic by tariff, when tariffs are
	// configured and the interface was in this reply.
	Tariff *TariffUsage
	// LostWhileDown is set when the first sample after a bridge restart
	// is a reset (the router rebooted, or the interface was re-created,
	// while no bridge watched): the traffic between the last persisted
	// sample and the reset is unknown and not counted.
	LostWhileDown bool
	// Refresh is what is known of the driver's counter refresh period,
	// from the agent's change times (watch mode) or the stale-read
	// pattern; RefreshNews is set when it became known or changed, or
	// when the interval became too short for it (outputs log it).
	Refresh     refresh.Estimate
	TooCoarse   bool
	RefreshNews bool
}

// NodeSample is what one agent contributed to one tick: a matched reply or a
// gap. Outputs receive it in tick order per node.
type NodeSample struct {
	Node string
	Tick time.Time
	// Gap is set when the agent did not answer this tick's request.
	Gap   bool
	Reply *wire.Reply // nil on a gap
	// Info is the agent's latest description (P/N/info), or nil.
	Info *wire.Info
	// Ifaces is sorted by name; on a gap it lists every known interface.
	Ifaces []IfaceSample
	// Copy, on the first reply after a persisted copy of the node's
	// state was taken in (Restore, Offer), is that copy's Extra: outputs
	// continue what they keep there (CopyKeeper). Read-only.
	Copy map[string]json.RawMessage
}

// SamplerConfig configures a Sampler.
type SamplerConfig struct {
	Interval time.Duration
	// RunID prefixes every request id ("<RunID>-<seq>"), so replies to
	// another bridge's (or an earlier run's) requests are recognised.
	RunID string
	// Nodes restricts sampling to these node ids; empty means every agent
	// that announces itself.
	Nodes []string
	// Shard and Shards split the agents among bridges: this one samples
	// the nodes whose stable hash modulo Shards is Shard. Shards 0 or 1
	// means all.
	Shard, Shards int
	// Auto shares the agents among the fleet's bridges (IFSTAT_SHARD=auto):
	// this one samples the nodes whose Owner among SetMembers is Self.
	Auto bool
	Self string
	// ObsoleteAfter is how long an interface may be absent before its
	// charts are removed.
	ObsoleteAfter time.Duration
	Rate          rate.Config
	// Tariffs, if set, splits every booked delta by tariff.
	Tariffs *Tariffs
	// Exact, without watch mode, fits each driver's refresh clock from
	// the reads (refresh.Lock) and divides each delta by the span between
	// the predicted refreshes the two reads follow (IFSTAT_EXACT).
	Exact bool
}

// Request is one request to publish.
type Request struct {
	Node    string
	Payload []byte
}

// iface is kept for every interface of every router, so its bools are
// together: 176 bytes, where interleaved they took 200 (208 allocated).
type iface struct {
	est         *refresh.Estimator
	lock        *refresh.Lock // nil unless SamplerConfig.Exact
	lastRaw     wire.Counters
	period      int64 // the refresh period last reported, ns
	tracker     *rate.Tracker
	tariff      *ifaceTariff // nil without tariffs
	absentSince time.Time    // zero while present
	restored    bool         // started from a persisted checkpoint, not yet updated
	seenRaw     bool
	coarse      bool // TooCoarse last reported
	obsolete    bool
	// open: the adaptive agent left the refresh of a reply that moved
	// without a window, and no window came since (held as unsure).
	open bool
	// unanchored: an open interval was closed as a gap; the baseline
	// has no refresh instant, so the next window starts anew.
	unanchored bool
	// fit is the clock the adaptive agent last claimed; base is the
	// refresh instant of the baseline (0 when unknown, or when the last
	// reply's values are not the baseline's), rate its exact rate.
	fit  agentFit
	base int64
	rate lastRate
	// placed: the last reply had no window and agentFit placed it; the
	// next one without a window is judged like one after a window.
	// placedHi is the end of the window it was placed in.
	placed   bool
	placedHi int64
}

type agent struct {
	node   string
	online bool
	owned  bool // Owner is this bridge; always set without Auto
	info   *wire.Info

	pendingID   string
	pendingTick time.Time
	answered    bool
	lastReply   time.Time // tick of the last matched reply

	ifaces map[string]*iface
}

// Sampler is the bridge's bookkeeping: which agents to ask, which reply
// answers which request, and the rate trackers per interface. It is not
// safe for concurrent use: the bridge's loop owns it.
type Sampler struct {
	cfg    SamplerConfig
	allow  map[string]bool
	agents map[string]*agent
	seq    uint64
	stats  Stats

	// restored holds persisted tracker state by node and interface; a
	// tracker created later starts from it. Nodes not seen in this run
	// stay here, so the next snapshot keeps them.
	restored map[string]state.NodeState
	// fresh holds the nodes whose restored copy no reply has carried
	// yet (NodeSample.Copy).
	fresh   map[string]bool
	snapSeq uint64

	members []string // the fleet's auto bridges online, sorted (Auto only)
}

// NewSampler returns a sampler for cfg.
func NewSampler(cfg SamplerConfig) *Sampler {
	s := &Sampler{cfg: cfg, agents: make(map[string]*agent), restored: make(map[string]state.NodeState), fresh: make(map[string]bool)}
	if len(cfg.Nodes) > 0 {
		s.allow = make(map[string]bool, len(cfg.Nodes))
		for _, n := range cfg.Nodes {
			s.allow[n] = true
		}
	}
	return s
}

// Stats returns the counters so far.
func (s *Sampler) Stats() Stats { return s.stats }

// Wanted reports whether node is followed at all (the IFSTAT_NODES filter
// and this bridge's k/n shard). With Auto every node is followed, and
// sampled while this bridge is its Owner.
func (s *Sampler) Wanted(node string) bool {
	if s.allow != nil && !s.allow[node] {
		return false
	}
	return s.cfg.Auto || s.cfg.Shards <= 1 || ShardOf(node, s.cfg.Shards) == s.cfg.Shard
}

// Sampled reports whether node is online and this bridge asks it.
func (s *Sampler) Sampled(node string) bool {
	a := s.agents[node]
	return a != nil && a.online && a.owned
}

// Owner is the bridge among members that samples node: rendezvous
// (highest random weight) hashing, so every bridge that sees the same
// members agrees without talking to the others, and a bridge that leaves
// or joins moves only its own share of the nodes. "" without members.
func Owner(node string, members []string) string {
	var best string
	var bestW uint64
	for _, m := range members {
		if w := weight(m, node); best == "" || w > bestW || w == bestW && m < best {
			best, bestW = m, w
		}
	}
	return best
}

// weight is FNV-1a over member, a separator no id contains, and node,
// through the SplitMix64 finalizer: FNV alone leaves ids that differ in
// their last byte with close weights.
func weight(member, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(member))
	h.Write([]byte{'/'})
	h.Write([]byte(node))
	x := h.Sum64()
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// SetMembers sets the fleet's auto bridges online (Auto only; the caller
// includes this bridge once it samples). Nodes this bridge no longer owns
// stop being asked at once; their trackers are dropped, and handover holds
// their last state for the next owner (nil if none). Nodes it now owns are
// asked from the next Tick, continuing from the newest state copy Offer
// kept.
func (s *Sampler) SetMembers(members []string, now time.Time) (moved int, handover *state.Snapshot) {
	s.members = slices.Sorted(slices.Values(members))
	for node, a := range s.agents {
		owned := Owner(node, s.members) == s.cfg.Self
		if owned == a.owned {
			continue
		}
		moved++
		a.owned, a.pendingID = owned, ""
		if owned || len(a.ifaces) == 0 {
			continue
		}
		if handover == nil {
			s.snapSeq++
			handover = &state.Snapshot{Bridge: s.cfg.Self, Saved: now, Seq: s.snapSeq, Nodes: map[string]state.NodeState{}}
		}
		ns := s.nodeState(a, now, s.snapSeq)
		handover.Nodes[node] = ns
		s.restored[node] = ns
		a.ifaces = make(map[string]*iface)
	}
	return moved, handover
}

// Offer keeps a node's state copy written by the fleet (Auto), if it is
// newer than what is kept, for when this bridge samples the node next. A
// node this bridge samples and has trackers for is its own to write, and
// a node that never announced itself is nobody's: the offer is ignored.
func (s *Sampler) Offer(node string, ns state.NodeState) {
	a := s.agents[node]
	if a == nil || !s.Wanted(node) {
		// Only agents that announced themselves: anyone allowed to write
		// the fleet's copies could invent nodes without end.
		return
	}
	if a.owned && len(a.ifaces) > 0 {
		return
	}
	if old, ok := s.restored[node]; !ok || ns.Newer(old) {
		s.restored[node] = ns
		s.fresh[node] = true
	}
}

// ShardOf is the shard (0..shards-1) that samples node: FNV-1a of the node
// id, so every bridge agrees without talking to the others.
func ShardOf(node string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(node))
	return int(h.Sum32() % uint32(shards))
}

func (s *Sampler) agent(node string) *agent {
	a := s.agents[node]
	if a == nil {
		a = &agent{node: node, ifaces: make(map[string]*iface), owned: !s.cfg.Auto || Owner(node, s.members) == s.cfg.Self}
		s.agents[node] = a
	}
	return a
}

// Status records an agent's availability from P/N/status. It returns false
// when the node is filtered out.
func (s *Sampler) Status(node string, online bool) bool {
	if !s.Wanted(node) {
		return false
	}
	a := s.agent(node)
	a.online = online
	if !online {
		a.pendingID = ""
	}
	return true
}

// Info records an agent's description from P/N/info.
func (s *Sampler) Info(in wire.Info) bool {
	if !s.Wanted(in.Node) {
		return false
	}
	s.agent(in.Node).info = &in
	return true
}

// AgentInfo returns the last description of node, or nil.
func (s *Sampler) AgentInfo(node string) *wire.Info {
	if a := s.agents[node]; a != nil {
		return a.info
	}
	return nil
}

// Online returns the sorted node ids being sampled.
func (s *Sampler) Online() []string {
	var nodes []string
	for n, a := range s.agents {
		if a.online && a.owned {
			nodes = append(nodes, n)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// Tick closes the previous tick, returning a gap sample for every agent
// that did not answer, and returns the requests to send for tick t.
// skipped is the number of ticks the clock dropped before t.
func (s *Sampler) Tick(t time.Time, skipped int) (reqs []Request, gaps []*NodeSample) {
	s.stats.Skipped += uint64(skipped)
	s.seq++
	id := s.cfg.RunID + "-" + strconv.FormatUint(s.seq, 10)
	payload := []byte(`{"id":"` + id + `"}`)
	for _, node := range s.Online() {
		a := s.agents[node]
		if a.pendingID != "" && !a.answered {
			s.stats.Gaps++
			gaps = append(gaps, s.gap(a, a.pendingTick))
		}
		a.pendingID, a.pendingTick, a.answered = id, t, false
		reqs = append(reqs, Request{Node: node, Payload: payload})
		s.stats.Requests++
	}
	return reqs, gaps
}

func (s *Sampler) gap(a *agent, tick time.Time) *NodeSample {
	ns := &NodeSample{Node: a.node, Tick: tick, Gap: true, Info: a.info}
	for _, name := range sortedKeys(a.ifaces) {
		if f := a.ifaces[name]; !f.obsolete {
			ns.Ifaces = append(ns.Ifaces, IfaceSample{Name: name, Absent: true})
		}
	}
	return ns
}

// DropReason says why a reply was not used.
type DropReason string

// Reasons a reply is dropped.
const (
	DropForged     DropReason = "node in payload differs from topic"
	DropUnexpected DropReason = "agent not sampled"
	DropLate       DropReason = "late"
	DropDuplicate  DropReason = "duplicate"
	// DropUnknown is expected wherever another bridge (ifstat-bridge
	// watch, a shard, an earlier run) asks the same agents on the same
	// broker: their replies reach every subscriber. Counted, not a fault.
	DropUnknown DropReason = "reply to a request never sent"
)

// Reply matches a decoded reply that arrived on topicNode's reply topic at
// time now (the bridge's clock, used only for the deadline) and returns the
// sample, or the reason it was dropped.
func (s *Sampler) Reply(topicNode string, r *wire.Reply, now time.Time) (*NodeSample, DropReason) {
	if r.Node != topicNode {
		s.stats.Forged++
		return nil, DropForged
	}
	a := s.agents[r.Node]
	if a == nil || !a.online || !a.owned {
		s.stats.Unexpected++
		return nil, DropUnexpected
	}
	if r.ID != a.pendingID || a.pendingID == "" {
		if seq, ok := s.ownSeq(r.ID); ok && seq < s.seq {
			s.stats.Late++
			return nil, DropLate
		}
		s.stats.Unknown++
		return nil, DropUnknown
	}
	if a.answered {
		s.stats.Duplicate++
		return nil, DropDuplicate
	}
	if !now.Before(a.pendingTick.Add(s.cfg.Interval)) {
		s.stats.Late++
		return nil, DropLate
	}
	a.answered = true
	a.lastReply = a.pendingTick
	s.stats.Matched++
	return s.sample(a, r), ""
}

func (s *Sampler) ownSeq(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, s.cfg.RunID+"-")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 10, 64)
	return seq, err == nil
}

func (s *Sampler) sample(a *agent, r *wire.Reply) *NodeSample {
	// Sized once: grown by append, the interfaces of 5,000 routers were
	// the bridge's largest allocation (312 B each, four grows per reply).
	ns := &NodeSample{Node: a.node, Tick: a.pendingTick, Reply: r, Info: a.info,
		Ifaces: make([]IfaceSample, 0, max(len(r.Ifaces), len(a.ifaces)))}
	if s.fresh[a.node] {
		ns.Copy = s.restored[a.node].Extra
		delete(s.fresh, a.node)
	}
	// An adaptive agent (IFSTAT_WATCH=auto) says which refresh each
	// reply's values are current as of.
	refreshes := a.info != nil && slices.Contains(a.info.Capabilities, wire.CapabilityRefresh)
	for name, c := range r.Ifaces {
		f := a.ifaces[name]
		if f == nil {
			f = &iface{tracker: rate.New(s.cfg.Rate), est: refresh.New(refresh.Config{})}
			if s.cfg.Exact {
				f.lock = refresh.NewLock(refresh.LockConfig{})
			}
			if cp, ok := s.restored[a.node].Ifaces[name]; ok {
				f.tracker.Restore(cp)
				f.restored = true
			}
			s.restoreFit(a.node, name, f.est, r)
			f.tariff = s.newTariff(a.node, name)
			a.ifaces[name] = f
		}
		f.absentSince, f.obsolete = time.Time{}, false
		placed := false
		smp := rate.Sample{BootID: r.BootID, MonoNS: r.MonoNS, Ifindex: c.Ifindex, SpeedMbps: c.SpeedMbps, Values: rate.FromWire(c)}
		if refreshes && f.seenRaw && newClock(f.lastRaw.RefreshNS, c.RefreshNS) {
			// The agent's fit is in doubt or was replaced: the windows
			// of the old clock would narrow the new one's onto its
			// instants.
			f.est.Reset()
		}
		if c.ChangedNS > 0 && c.UnchangedNS > 0 {
			// Watch mode: the change lies in (unchanged, changed]; the
			// fitted refresh period narrows that window.
			if !refreshes || f.seenRaw && moved(&f.lastRaw, &c) && c.ChangedNS-c.UnchangedNS <= maxFitWindowNS {
				// An adaptive agent's windows are narrow at its probes;
				// a wide one (a change first seen by a request) or one
				// of a refresh that changed nothing says little about
				// the clock.
				f.est.Observe(c.UnchangedNS, c.ChangedNS)
			}
			smp.UnchangedNS, smp.ChangedNS = c.UnchangedNS, c.ChangedNS
			if !refreshes || c.RefreshNS > 0 {
				// An adaptive agent without refresh_ns doubts its own
				// fit and claims only its reads' window: narrowed by
				// the bridge's fit, it would be a guess.
				smp.UnchangedNS, smp.ChangedNS = f.est.Refine(c.UnchangedNS, c.ChangedNS)
			}
			if refreshes {
				// The window brackets the refresh the values are current
				// as of, even one that changed nothing: a newer window
				// over the same values is a true zero, and until one
				// comes, still counters are held as long as the agent
				// may take to claim it (three refreshes) rather than
				// the stale limit.
				smp.Predicted = true
				// Not over a refresh the bridge placed itself: the
				// agent's window for it, once the agent has one again,
				// is no newer (rated, a still reply after a placed one
				// was a zero over the read span).
				smp.Live = f.seenRaw && c.ChangedNS > f.lastRaw.ChangedNS && !(f.placed && c.ChangedNS <= f.placedHi)
				if c.RefreshNS > 0 {
					smp.HoldNS = 3*c.RefreshNS + 2*int64(s.cfg.Interval)
				}
			}
			if refreshes {
				if c.RefreshNS > 0 {
					f.fit.claim(smp.UnchangedNS, smp.ChangedNS, c.RefreshNS)
				} else if f.fit.valid() && !f.fit.agrees(c.UnchangedNS, c.ChangedNS) {
					f.fit = agentFit{}
				}
			}
			if refreshes && f.unanchored {
				// The baseline's refresh is not known: the interval up
				// to this window is a gap, the next one exact.
				smp.Rebase = true
			}
			f.open, f.unanchored = false, false
		} else {
			if f.seenRaw {
				f.est.ObserveRead(r.MonoNS, moved(&f.lastRaw, &c))
			}
			if f.lock != nil {
				lockSample(f.lock, &smp, f.seenRaw, &f.lastRaw, &c)
			}
			// Still values after a held read are that read's values,
			// no more anchored than it was: rated, they were a rate
			// over the read span since the last window (-29 % at a
			// 2 s driver read every second).
			stillOpen := f.open && !moved(&f.lastRaw, &c)
			// refresh_ns without a window: the agent's fit holds but it
			// cannot tell which refresh made the values. Never a rate
			// over the read span, whatever came before (after a held
			// interval closed as a gap, a 2 s driver's next such reply
			// was rated over the second since a still one: 2x).
			unplaced := c.RefreshNS > 0
			// Nor after still replies without a window, while the clock
			// the agent claimed is recent: sampled every 0.2 s, a 1 s
			// driver's change comes after four still replies, and an
			// agent that lost its fit claims nothing on them (read spans
			// 0.6-1.2 s for 1 s of bytes: 66 % off in the matrix).
			claimed := f.fit.recent(r.MonoNS)
			if refreshes && f.seenRaw && ((periodic(&f.lastRaw) || f.open || f.placed || unplaced || claimed) && grew(&f.lastRaw, &c) || stillOpen) {
				// An adaptive agent that claimed the refreshes of a
				// periodic driver leaves this one's instant open (its
				// fit in doubt, the change seen first by this read):
				// held like an unsure read, so that the next window
				// spans both intervals, never a rate over the read
				// span. Counters that went down made the agent start
				// over (a wrap, a reset): today's rules apply.
				// Unless the clock the agent claimed last places the
				// read beyond doubt (agentFit.place).
				if lo, hi, ok := f.fit.place(r.MonoNS, f.base, bytesDelta(&f.lastRaw, &c), f.rate); ok && !f.open {
					smp.UnchangedNS, smp.ChangedNS, smp.Predicted = lo, hi, true
					placed, f.placedHi = true, hi
				} else {
					smp.Unsure, f.open = true, true
					if c.RefreshNS > 0 {
						// Held as long as the agent may take to claim
						// a window again, not only the stale limit: a
						// 2 s driver's held reply and the still one
						// after it pass 3 s.
						smp.HoldNS = 3*c.RefreshNS + 2*int64(s.cfg.Interval)
					}
				}
			}
		}
		f.lastRaw, f.seenRaw, f.placed = c, true, placed
		res := f.tracker.Update(smp)
		if smp.Unsure && res.Status != rate.Stale {
			f.open, f.unanchored = false, true
		}
		f.follow(&smp, &res)
		if res.Status == rate.Reset {
			f.fit = agentFit{}
			f.est.Reset()
			if f.lock != nil {
				f.lock.Reset()
			}
		}
		is := IfaceSample{Name: name, SpeedMbps: c.SpeedMbps, Result: res, LostWhileDown: f.restored && res.Status == rate.Reset}
		is.Refresh = f.est.Estimate()
		if c.RefreshNS > 0 {
			// The agent saw every refresh it fitted; replies a second
			// apart cannot tell a 0.5 s period from 1 s.
			is.Refresh.PeriodNS, is.Refresh.Confident = c.RefreshNS, true
		}
		is.TooCoarse = is.Refresh.TooCoarse(int64(s.cfg.Interval))
		if p := is.Refresh.PeriodNS; is.Refresh.Confident && (f.period == 0 || abs(p-f.period)*100 > f.period) || is.TooCoarse != f.coarse {
			is.RefreshNews = true
			f.period, f.coarse = is.Refresh.PeriodNS, is.TooCoarse
		}
		if res.Status != rate.OutOfOrder {
			f.restored = false
		}
		if f.tariff != nil {
			at := sampleTime(r.TimeNS, a.pendingTick)
			var changed time.Time
			if res.ChangeSpan {
				// The reply's own pair of clocks places the change on the
				// wall clock: the mono span to the read, back from it.
				changed = at.Add(-time.Duration(r.MonoNS - smp.ChangeNS()))
			}
			f.tariff.book(&res, at, changed)
			is.Tariff = f.tariff.usage(s.cfg.Tariffs.Schedule, s.cfg.Tariffs.Caps, at)
		}
		ns.Ifaces = append(ns.Ifaces, is)
	}
	for name, f := range a.ifaces {
		if _, ok := r.Ifaces[name]; ok || f.obsolete {
			continue
		}
		if f.absentSince.IsZero() {
			f.absentSince = a.pendingTick
		}
		is := IfaceSample{Name: name, Absent: true}
		if s.cfg.ObsoleteAfter > 0 && a.pendingTick.Sub(f.absentSince) >= s.cfg.ObsoleteAfter {
			f.obsolete, is.Obsolete = true, true
		}
		ns.Ifaces = append(ns.Ifaces, is)
	}
	slices.SortFunc(ns.Ifaces, func(x, y IfaceSample) int { return strings.Compare(x.Name, y.Name) })
	return ns
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Restore takes persisted state (the newest of the state file and the
// retained copies, merged per node). Trackers that already exist are
// restored at once: a checkpoint older than their own state moves their
// baseline back to it, which books the traffic since the checkpoint
// exactly once. Call it before sampling starts, never with a snapshot this
// run wrote itself.
func (s *Sampler) Restore(snap *state.Snapshot) {
	if snap == nil {
		return
	}
	for node, ns := range snap.Nodes {
		if !s.Wanted(node) {
			continue
		}
		s.restored[node] = ns
		s.fresh[node] = true
		a := s.agents[node]
		if a == nil {
			continue
		}
		for name, cp := range ns.Ifaces {
			if f := a.ifaces[name]; f != nil {
				f.tracker.Restore(cp)
				f.restored = true
			}
		}
	}
}

// Snapshot captures every tracker's state and refresh fit, and keeps the
// restored state of nodes not seen in this run, so nothing persisted is
// dropped. With Auto it holds only the nodes this bridge samples.
func (s *Sampler) Snapshot(bridgeID string, now time.Time) *state.Snapshot {
	return s.SnapshotOf(bridgeID, now, nil)
}

// SnapshotOf is Snapshot of the nodes for which in is true (all if in is
// nil).
func (s *Sampler) SnapshotOf(bridgeID string, now time.Time, in func(node string) bool) *state.Snapshot {
	s.snapSeq++
	snap := &state.Snapshot{Bridge: bridgeID, Saved: now, Seq: s.snapSeq, Nodes: map[string]state.NodeState{}}
	if !s.cfg.Auto {
		// With Auto, the copies of nodes other bridges sample are theirs
		// to write.
		for node, ns := range s.restored {
			if in == nil || in(node) {
				snap.Nodes[node] = ns
			}
		}
	}
	for node, a := range s.agents {
		if len(a.ifaces) == 0 || !a.owned || in != nil && !in(node) {
			continue
		}
		snap.Nodes[node] = s.nodeState(a, now, s.snapSeq)
	}
	return snap
}

// SaveSlot is the slot (0..slots-1) in which node's state is saved when
// the saves are spread over slots ticks: a hash of the node id, unrelated
// to ShardOf and Owner, so that the nodes of one shard spread over every
// slot.
func SaveSlot(node string, slots int) int {
	return int(weight("\x00save", node) % uint64(slots))
}

// nodeState captures a node's trackers, refresh fits and tariffs, with the
// restored state of interfaces not (yet) seen again.
func (s *Sampler) nodeState(a *agent, now time.Time, seq uint64) state.NodeState {
	node := a.node
	ns := state.NodeState{Saved: now, Seq: seq, Ifaces: make(map[string]rate.Checkpoint, len(a.ifaces))}
	for name, cp := range s.restored[node].Ifaces {
		ns.Ifaces[name] = cp
	}
	for name, f := range a.ifaces {
		ns.Ifaces[name] = f.tracker.Snapshot()
	}
	ns.Extra = s.restored[node].Extra
	ns.Extra = withExtra(ns.Extra, fitKey, snapshotFits(a, ns.Ifaces, ns.Extra[fitKey]))
	if s.cfg.Tariffs != nil {
		ns.Extra = withExtra(ns.Extra, extraKey, snapshotTariffs(a, ns.Extra[extraKey]))
	}
	return ns
}

// maxFitWindowNS is the widest window of an adaptive agent (wire.
// CapabilityRefresh) that the bridge's own fit takes.
const maxFitWindowNS = 60_000_000

// lockSample feeds one read to the interface's refresh lock and copies
// what it predicts into smp: the rule of IFSTAT_EXACT is applied here only,
// so every output follows it. A read whose counters went down or whose
// interface changed starts the lock over.
func lockSample(l *refresh.Lock, smp *rate.Sample, seen bool, last, c *wire.Counters) {
	var d uint64
	if seen {
		if c.Ifindex != 0 && last.Ifindex != 0 && c.Ifindex != last.Ifindex {
			l.Reset()
		} else {
			rx, ok1 := counterDelta(last.RxBytes, c.RxBytes)
			tx, ok2 := counterDelta(last.TxBytes, c.TxBytes)
			if !ok1 || !ok2 {
				l.Reset()
			}
			d = rx + tx
		}
	}
	w := l.Read(smp.MonoNS, d)
	smp.UnchangedNS, smp.ChangedNS = w.UnchangedNS, w.ChangedNS
	smp.Predicted, smp.Unsure, smp.Live, smp.Rebase = w.Predicted, w.Unsure, w.Live, w.Rebase
}

// follow keeps what agentFit.place needs of the sample just tracked:
// its refresh instant if it became the baseline, and its exact rate.
func (f *iface) follow(smp *rate.Sample, res *rate.Result) {
	if res.Status == rate.Stale {
		if smp.Unsure {
			// A held reply: the baseline is older than its values.
			f.base = 0
		}
		// A still reply keeps the baseline's values, so the next delta
		// from it is the delta from the baseline's refresh.
		return
	}
	f.base = smp.ChangeNS()
	if res.Status == rate.OK && res.ChangeSpan {
		f.rate = lastRate{bytes: res.Delta[rate.RxBytes] + res.Delta[rate.TxBytes], spanNS: res.DtNS}
	} else {
		f.rate = lastRate{}
	}
}

// bytesDelta is the bytes received and sent between two reads, 32-bit
// wraps included; 0 if a counter went down otherwise.
func bytesDelta(a, b *wire.Counters) uint64 {
	rx, ok1 := counterDelta(a.RxBytes, b.RxBytes)
	tx, ok2 := counterDelta(a.TxBytes, b.TxBytes)
	if !ok1 || !ok2 {
		return 0
	}
	return rx + tx
}

// newClock reports whether an adaptive agent's refresh_ns says that its
// fit changed between two replies: it disappeared (the agent doubts it)
// or moved by more than 1 %.
func newClock(prev, cur int64) bool {
	return prev > 0 && (cur <= 0 || abs(cur-prev)*100 > prev)
}

// counterDelta is new-old, or the 32-bit wrap of it; false for a decrease
// that cannot be a wrap.
func counterDelta(old, new uint64) (uint64, bool) {
	switch {
	case new >= old:
		return new - old, true
	case old < 1<<32:
		return 1<<32 - old + new, true
	}
	return 0, false
}

// periodic reports whether an adaptive agent's reply claimed a refresh of
// a periodic driver: with its fit's period, or, while it doubts the fit,
// a window of its own reads. Live counters get the read itself, a window
// 1 ns wide, and an agent without a fit no window.
func periodic(c *wire.Counters) bool {
	return c.ChangedNS > 0 && (c.RefreshNS > 0 || c.ChangedNS-c.UnchangedNS > 1)
}

// grew reports whether some of the counters that a driver refresh updates
// rose between two reads and none went down.
func grew(a, b *wire.Counters) bool {
	return moved(a, b) && b.RxBytes >= a.RxBytes && b.TxBytes >= a.TxBytes && b.RxPackets >= a.RxPackets && b.TxPackets >= a.TxPackets
}

// moved reports whether the counters that a driver refresh updates
// changed between two reads.
func moved(a, b *wire.Counters) bool {
	return a.RxBytes != b.RxBytes || a.TxBytes != b.TxBytes || a.RxPackets != b.RxPackets || a.TxPackets != b.TxPackets
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
