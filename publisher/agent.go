package publisher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Queue bounds: MaxRequesters requester keys with at most PerRequester
// pending requests each; everything else is dropped and counted.
const (
	MaxRequesters = 64
	PerRequester  = 2
)

// Capabilities lists what this agent's replies carry, in P/N/info.
var capabilities = []string{"reply", "ifindex", "speed"}

// waitTimeout bounds every wait on a paho token.
const waitTimeout = 10 * time.Second

// CounterReader reads interface counters; *netdev.Reader is the real one.
type CounterReader interface {
	// Read returns a fresh snapshot; its map is valid until the next Read.
	Read() (netdev.Snapshot, error)
	// BootID is /proc/sys/kernel/random/boot_id.
	BootID() string
}

// Deps are the agent's collaborators; zero fields get the real ones.
type Deps struct {
	// Version is reported in P/N/info.
	Version string
	// Reader reads the counters; nil builds a netdev.Reader from Config.
	Reader CounterReader
	// NewClient builds the MQTT client; nil means mqttx.NewClient.
	NewClient func(mqttx.Options) (mqtt.Client, error)
	// Now is the clock of the reply rate limit; nil means time.Now.
	Now func() time.Time
	// CPUTime returns the CPU time (ns) the agent has used, for the
	// watch's CPU budget; nil means the process's, from getrusage.
	CPUTime func() (int64, error)
}

// Stats counts what the agent did since it started.
type Stats struct {
	Requests   uint64 // payloads received on P/N/request
	Replies    uint64 // replies published
	Bad        uint64 // malformed requests dropped
	Dropped    uint64 // good requests dropped because their queue was full
	ReadErrors uint64 // failed counter reads (no reply sent)
	WatchReads uint64 // reads of the watch between requests
	// StalledReads counts the replies' reads that took longer than
	// stalledRead (see readFresh).
	StalledReads uint64
}

// Agent answers requests with fresh counter reads. Build it with New and
// run it with Run.
type Agent struct {
	cfg    Config
	log    *logrus.Entry
	topics wire.Topics
	client mqtt.Client
	reader CounterReader
	now    func() time.Time
	runID  string
	lim    *logx.Limiter
	base   wire.Info // P/N/info without the interface list

	// readMu serialises reads of the counters between the reply worker
	// and the watch, and guards watch.
	readMu sync.Mutex
	watch  *watcher // nil unless watch mode is on
	// budget thins the adaptive watch over IFSTAT_WATCH_CPU, with the
	// agent's CPU time from cpuTime; guarded by readMu.
	budget  *cpuBudget
	cpuTime func() (int64, error)

	mu    sync.Mutex
	queue *fairQueue
	info  []byte // current retained P/N/info payload
	wake  chan struct{}
	// watchWake tells the watch loop to read now (watcher.takeWake).
	watchWake chan struct{}

	requests, replies, bad, dropped, readErrors, watchReads, stalledReads atomic.Uint64

	// Owned by the worker goroutine.
	bucket *tokenBucket
	enc    wire.Encoder
	buf    []byte
	seq    uint64
	ifaces []string // sorted names in the last published info
}

// New validates cfg and builds an agent. It reads the counters once, so a
// wrong IFSTAT_PROC_ROOT fails here rather than on the first request, but it
// does not connect: Run does.
func New(cfg Config, log *logrus.Entry, deps Deps) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.CPUTime == nil {
		deps.CPUTime = processCPU
	}
	if deps.NewClient == nil {
		deps.NewClient = mqttx.NewClient
	}
	if deps.Reader == nil {
		sel, err := netdev.NewSelector(cfg.Interfaces)
		if err != nil {
			return nil, fmt.Errorf("selecting interfaces: %w", err)
		}
		r, err := netdev.NewReader(netdev.Options{ProcRoot: cfg.ProcRoot, SysRoot: cfg.SysRoot, Select: sel})
		if err != nil {
			return nil, fmt.Errorf("opening counters: %w", err)
		}
		deps.Reader = r
	}
	runID, err := newRunID()
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:       cfg,
		log:       log,
		topics:    wire.Topics{Prefix: cfg.TopicPrefix, Node: cfg.Node},
		reader:    deps.Reader,
		now:       deps.Now,
		runID:     runID,
		lim:       logx.NewLimiter(3, time.Minute, deps.Now),
		queue:     newFairQueue(MaxRequesters, PerRequester),
		wake:      make(chan struct{}, 1),
		watchWake: make(chan struct{}, 1),
		bucket:    newTokenBucket(cfg.MaxRate, burst(cfg.MaxRate), deps.Now()),
		buf:       make([]byte, 0, 4096),
		budget:    newCPUBudget(cfg.WatchCPU),
		cpuTime:   deps.CPUTime,
	}
	caps := capabilities
	if cfg.Watch.On() {
		a.watch = newWatcher(cfg.Watch.Auto)
		caps = append(slices.Clone(capabilities), "watch")
		if cfg.Watch.Auto {
			// changed_ns/unchanged_ns bracket the refresh the values are
			// current as of, even when it changed nothing (docs/protocol.md).
			caps = append(caps, wire.CapabilityRefresh)
		}
	}
	snap, err := a.reader.Read()
	if err != nil {
		return nil, fmt.Errorf("reading counters: %w", err)
	}
	hostname, _ := os.Hostname()
	kernel, _ := netdev.Uname()
	a.base = wire.Info{
		Node:         cfg.Node,
		Protocol:     wire.ProtocolVersion,
		Version:      deps.Version,
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		Kernel:       kernel,
		Hostname:     hostname,
		BootID:       a.reader.BootID(),
		RunID:        runID,
		Capabilities: caps,
		MaxRate:      cfg.MaxRate,
	}
	if err := a.setIfaces(snap.Ifaces); err != nil {
		return nil, err
	}
	topicStatus := a.topics.Status()
	a.client, err = deps.NewClient(mqttx.Options{
		Config:    cfg.Common,
		ClientID:  mqttx.ClientID("agent", cfg.Node),
		Will:      &mqttx.Message{Topic: topicStatus, Payload: []byte(wire.StatusOffline), QoS: 1, Retained: true},
		OnConnect: a.onConnect,
		Log:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("mqtt client: %w", err)
	}
	return a, nil
}

// burst is the token bucket's depth: a tenth of a second of replies, so
// several bridges asking on the same second boundary are all answered.
func burst(rate int) int { return max(1, min(rate/10, 50)) }

func newRunID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// RunID identifies this agent process in replies and P/N/info.
func (a *Agent) RunID() string { return a.runID }

// Stats returns the counts so far; safe for concurrent use.
func (a *Agent) Stats() Stats {
	return Stats{
		Requests:   a.requests.Load(),
		Replies:    a.replies.Load(),
		Bad:        a.bad.Load(),
		Dropped:    a.dropped.Load(),
		ReadErrors: a.readErrors.Load(),
		WatchReads: a.watchReads.Load(),

		StalledReads: a.stalledReads.Load(),
	}
}

// Run connects (retrying while the broker is down), answers requests until
// ctx is done, then publishes a retained "offline" and disconnects. Losing
// the broker is not an error: paho reconnects and onConnect resubscribes.
func (a *Agent) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.work(ctx)
	}()
	if a.watch != nil {
		watchDone := make(chan struct{})
		go func() {
			defer close(watchDone)
			a.watchLoop(ctx)
		}()
		defer func() { <-watchDone }()
	}
	// With ConnectRetry the connect token completes only once connected
	// (or on Disconnect), so it is not waited for.
	a.client.Connect()
	<-ctx.Done()
	<-done
	if a.client.IsConnectionOpen() {
		tok := a.client.Publish(a.topics.Status(), 1, true, wire.StatusOffline)
		if err := mqttx.Wait(tok, 2*time.Second); err != nil {
			a.log.WithError(err).Warn("publishing offline status")
		}
	}
	a.client.Disconnect(250)
	f := logrus.Fields{"requests": a.requests.Load(), "replies": a.replies.Load(), "watch_reads": a.watchReads.Load(),
		"stalled_reads": a.stalledReads.Load()}
	if a.watch != nil && a.watch.auto {
		// Replies that claimed no window although the fit held: a
		// measure of how often reads ran too late to place a change.
		a.readMu.Lock()
		h, late := a.watch.withheld, a.watch.lateProbes
		thin, thinned, spaced := a.budget.thin, a.budget.thinnedNS, a.watch.spaced()
		a.readMu.Unlock()
		f["withheld_after_stretch"], f["withheld_before_band"], f["withheld_late_probe"], f["withheld_after_band"] = h[afterStretch], h[beforeBand], h[lateProbe], h[afterBand]
		f["watch_late_probes"] = late
		// Time over the CPU budget (IFSTAT_WATCH_CPU), probing sparsely.
		f["watch_probe_every"], f["watch_thinned_s"], f["watch_probe_spaced"] = thin, thinned/1e9, spaced
	}
	a.log.WithFields(f).Info("stopped")
	return nil
}

// onConnect runs on every (re)connect in its own goroutine: the clean
// session has forgotten the subscription, and the retained status may be
// the broker's copy of our will.
func (a *Agent) onConnect(c mqtt.Client) {
	topic := a.topics.Request()
	tok := c.Subscribe(topic, 0, a.onMessage)
	if err := mqttx.Wait(tok, waitTimeout); err != nil {
		// A stalled broker: keepalive will drop this connection and the
		// next connect subscribes again.
		a.log.WithError(err).WithField("topic", topic).Error("subscribing")
		return
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok && st.Result()[topic] == 0x80 {
		// Refused (an ACL): reconnecting would not help; say so loudly
		// and still announce, so the problem is visible on the broker.
		a.log.WithField("topic", topic).Error("broker refused the request subscription; check its ACL")
	}
	a.mu.Lock()
	info := a.info
	a.mu.Unlock()
	c.Publish(a.topics.Info(), 1, true, info)
	if err := mqttx.Wait(c.Publish(a.topics.Status(), 1, true, wire.StatusOnline), waitTimeout); err != nil {
		a.log.WithError(err).Warn("publishing online status")
	}
}

func (a *Agent) onMessage(_ mqtt.Client, m mqtt.Message) { a.handle(m.Payload()) }

// handle decodes one request and queues it. It runs on paho's goroutines
// and never blocks: what does not fit is dropped and counted.
func (a *Agent) handle(p []byte) {
	a.requests.Add(1)
	req, err := wire.DecodeRequest(p)
	if err != nil {
		a.bad.Add(1)
		a.lim.Warn(a.log.WithError(err), "bad request", "dropping bad request")
		return
	}
	a.mu.Lock()
	ok := a.queue.Push(req.ID)
	a.mu.Unlock()
	if !ok {
		a.dropped.Add(1)
		a.lim.Warn(a.log.WithField("requester", RequesterKey(req.ID)), "queue full", "too many requests, dropping")
		return
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// work answers queued requests as fast as the token bucket allows.
func (a *Agent) work(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return // queued requests are dropped on shutdown
		}
		a.mu.Lock()
		_, pending := a.queue.Peek()
		a.mu.Unlock()
		if !pending {
			select {
			case <-ctx.Done():
				return
			case <-a.wake:
			}
			continue
		}
		if ok, wait := a.bucket.Take(a.now()); !ok {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			continue
		}
		a.mu.Lock()
		id, _ := a.queue.Pop()
		a.mu.Unlock()
		a.reply(id)
	}
}

// reply reads the counters once and publishes one reply for id.
func (a *Agent) reply(id string) {
	// The snapshot's map belongs to the reader: it is encoded before the
	// watch may read again.
	a.readMu.Lock()
	snap, err := a.readFresh()
	if err != nil {
		a.readMu.Unlock()
		a.readErrors.Add(1)
		a.lim.Warn(a.log.WithError(err), "read", "reading counters, request not answered")
		return
	}
	if snap.Skipped != nil {
		// A malformed line costs only that interface; say so, rarely.
		a.lim.Warn(a.log.WithError(snap.Skipped), "skipped", "skipped malformed lines of /proc/net/dev")
	}
	if a.watch != nil {
		a.watch.observe(snap.StartNS, snap.MonoNS, snap.Ifaces)
		a.watch.annotate(snap.MonoNS, snap.Ifaces)
		a.logNews()
		if a.watch.takeWake() {
			select {
			case a.watchWake <- struct{}{}:
			default:
			}
		}
	}
	a.seq++
	r := wire.Reply{
		ID:     id,
		Node:   a.cfg.Node,
		MonoNS: snap.MonoNS,
		TimeNS: snap.TimeNS,
		BootID: a.reader.BootID(),
		RunID:  a.runID,
		Seq:    a.seq,
		Ifaces: snap.Ifaces,
	}
	a.buf = a.enc.AppendReply(a.buf[:0], &r)
	changed := a.ifacesChanged(snap.Ifaces)
	var ifaces map[string]wire.Counters
	if changed {
		ifaces = maps.Clone(snap.Ifaces)
	}
	a.readMu.Unlock()
	tok := a.client.Publish(a.topics.Reply(), 0, false, a.buf)
	// paho writes the payload later, from its own goroutine: the buffer is
	// reused only once the token says it was written.
	if err := mqttx.Wait(tok, waitTimeout); err != nil {
		if errors.Is(err, mqttx.ErrTimeout) {
			a.buf = make([]byte, 0, cap(a.buf))
		}
		a.lim.Warn(a.log.WithError(err), "publish", "publishing reply")
	} else {
		a.replies.Add(1)
	}
	if changed {
		if err := a.setIfaces(ifaces); err != nil {
			a.log.WithError(err).Error("encoding info")
			return
		}
		a.mu.Lock()
		info := a.info
		a.mu.Unlock()
		a.log.WithField("interfaces", a.ifaces).Info("interface set changed")
		a.client.Publish(a.topics.Info(), 1, true, info)
	}
}

// stalledRead is how long a reply's read of the counters may take before
// it counts as stalled: a read that long was preempted somewhere between
// its start and its stamp, so the stamp may lie that far after the
// values were made. Rates over read spans (live counters, an agent
// without the adaptive watch) are then off by the stall over the
// interval: in the accuracy matrix a read stamped 16.7 ms after the
// emulated driver served it put a live interface's 1 s rate 1.6 % off.
// A read of /proc/net/dev takes well under a millisecond, even on a
// router.
const stalledRead = 2 * time.Millisecond

// readFresh reads the counters for a reply. A read that stalled
// (stalledRead) is read once more where its stamp is what the bridge
// rates by: without the adaptive watch, or with an interface whose
// counters are live. The second read's stamp follows its values closely
// again, unless it stalls too. The watch still sees the stalled read
// first: a change it saw lies before its end. Elsewhere the adaptive
// watch's windows come from its probes, and a second read would only
// add to whatever made the first one slow (in the matrix, 15 agents
// read at each of the bridge's ticks, and the second reads doubled the
// late probes). The caller holds readMu.
func (a *Agent) readFresh() (netdev.Snapshot, error) {
	snap, err := a.reader.Read()
	if err != nil || snap.StartNS <= 0 || snap.MonoNS-snap.StartNS <= int64(stalledRead) {
		return snap, err
	}
	a.stalledReads.Add(1)
	if a.watch != nil {
		if a.watch.auto && !a.watch.anyLive() {
			return snap, nil
		}
		a.watch.observe(snap.StartNS, snap.MonoNS, snap.Ifaces)
	}
	return a.reader.Read()
}

// ifacesChanged reports whether ifaces differs from the published set,
// without allocating on the usual path where it does not.
func (a *Agent) ifacesChanged(ifaces map[string]wire.Counters) bool {
	if len(ifaces) != len(a.ifaces) {
		return true
	}
	for _, name := range a.ifaces {
		if _, ok := ifaces[name]; !ok {
			return true
		}
	}
	return false
}

// setIfaces records the interface set and re-encodes P/N/info.
func (a *Agent) setIfaces(ifaces map[string]wire.Counters) error {
	names := make([]string, 0, len(ifaces))
	for name := range ifaces {
		names = append(names, name)
	}
	slices.Sort(names)
	info := a.base
	info.Interfaces = names
	p, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encoding info: %w", err)
	}
	a.ifaces = names
	a.mu.Lock()
	a.info = p
	a.mu.Unlock()
	return nil
}
