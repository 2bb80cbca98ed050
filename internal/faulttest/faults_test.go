package faulttest

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/truthtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

// rxRate is how fast eth0's counters grow in every scenario: about
// 1.25 MB/s, 10 Mbit/s. Nothing is compared with it: every value is
// judged against what the fixture served (truthtest).
const rxRate = 1_250_000.0

// longEnv, when set to 1, adds the scenarios that take minutes (see
// brokerPausedPastKeepalive).
const longEnv = "FAULTTEST_LONG"

// TestFaults runs every scenario side by side, each with its own broker,
// agent, bridge and counter source. The subtests run in goroutines rather
// than with t.Parallel: they mostly wait, and go test's -parallel default
// (GOMAXPROCS, 2 on the CI machine) would run them two at a time.
//
// Nothing here is timed against the machine's speed: every wait is for a
// condition the processes show (a lost connection in a log, a gap or a
// rate of the bridge computed from a read after the fault, a saved state
// file), bounded only by backGuard against a hang; the durations are
// logged.
func TestFaults(t *testing.T) {
	proctest.SkipShort(t, "real mosquitto, agent and bridge processes")
	// Beside TestHostileInput: the two share nothing but the binaries.
	t.Parallel()
	bins := buildBinaries(t)
	scenarios := []struct {
		name          string
		stateInterval string
		run           func(t *testing.T, r *rig)
	}{
		{"broker_killed_4x", "2s", brokerKilled},
		{"broker_paused", "2s", brokerPaused},
		{"agent_killed", "2s", agentKilled},
		{"router_rebooted", "2s", routerRebooted},
		{"iface_flapping", "2s", ifaceFlapping},
		{"bridge_killed_after_saves", "1s", bridgeKilled},
	}
	if os.Getenv(longEnv) == "1" {
		scenarios = append(scenarios, struct {
			name          string
			stateInterval string
			run           func(t *testing.T, r *rig)
		}{"paused_past_keepalive", "2s", brokerPausedPastKeepalive})
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, sc := range scenarios {
		wg.Go(func() {
			t.Run(sc.name, func(t *testing.T) {
				r := newRig(t, bins, "f-"+sc.name[:min(len(sc.name), 12)], sc.stateInterval)
				r.warmUp(t)
				sc.run(t, r)
				r.finish(t)
			})
		})
	}
}

// brokerKills is how often brokerKilled kills the broker: enough for
// repeated restarts to make paho back off further each time.
const brokerKills = 4

// brokerKilled: SIGKILL, and a restart as soon as both clients have
// noticed, brokerKills times, each as soon as a rate computed from a read
// after the last restart is out. Nothing survives a restart (no
// persistence): the retained statuses must be published again by the
// agent and the bridge.
//
// paho (v1.5.1 backoff.go) treats connection losses less than 2×3 s + the
// last sleep apart as one outage and doubles its sleep up to
// mqttx.MaxReconnectInterval (5 s), so the time back grows with every
// kill; it is logged, and only backGuard is asserted.
func brokerKilled(t *testing.T, r *rig) {
	lost := "connection lost"
	for i := range brokerKills {
		nAgent, nBridge := strings.Count(r.agent.stderr.String(), lost), strings.Count(r.bridge.stderr.String(), lost)
		r.broker.Kill()
		r.agent.waitLog(t, lost, nAgent+1)
		r.bridge.waitLog(t, lost, nBridge+1)
		r.broker.Restart()
		back := r.faultEnd()
		d := r.waitRatesReadAfter(t, back, 1)
		t.Logf("kill %d: first rate from a read after the restart %v after it", i+1, d.Round(time.Millisecond))
	}
}

// brokerPaused: SIGSTOP until the bridge has missed pausedRounds rounds
// (about as many seconds), then SIGCONT.
//
// The pause is shorter than mqttx.KeepAlive (30 s), so it tests a broker
// that stalls, not one that keepalive must detect: the connections stay
// up, the bridge's requests queue in the broker's socket, and on SIGCONT
// the agent gets them all at once and answers each. Only the reply to the
// current request may count; the first rate after the pause spans the
// whole pause (the agent read nothing while it lasted) and must be exact,
// not a spike. A pause until keepalive notices takes 40 s or more with
// the constant 30 s; it runs with FAULTTEST_LONG=1
// (brokerPausedPastKeepalive). Testing keepalive detection fast needs the
// keepalive to be configurable (say IFSTAT_KEEPALIVE, read by
// internal/mqttx), which it is not.
func brokerPaused(t *testing.T, r *rig) {
	const pausedRounds = 4
	m := r.pd.mark(r.chart())
	r.broker.Pause()
	paused := time.Now()
	r.pd.waitRounds(t, r.chart(), m, pausedRounds, func(v value) bool { return v.gap }, "gaps while paused")
	r.broker.Resume()
	back := r.faultEnd()
	d := r.waitRatesReadAfter(t, back, 1)
	t.Logf("paused %v (until %d gaps; keepalive 30 s): first rate from a read after SIGCONT %v after it",
		back.Wall.Sub(paused).Round(time.Millisecond), pausedRounds, d.Round(time.Millisecond))
}

// brokerPausedPastKeepalive: SIGSTOP until both clients have noticed,
// by keepalive, a broker that holds the connection open and answers
// nothing, then SIGCONT. paho (v1.5.1 ping.go) checks every 5 s, pings
// once nothing came for mqttx.KeepAlive (30 s) and gives up 10 s
// (PingTimeout) after the ping: about 40 to 45 s after the last packet;
// the bound is twice that. Only with FAULTTEST_LONG=1: it takes a minute.
func brokerPausedPastKeepalive(t *testing.T, r *rig) {
	const bound = 90 * time.Second
	lost := "connection lost"
	nAgent, nBridge := strings.Count(r.agent.stderr.String(), lost), strings.Count(r.bridge.stderr.String(), lost)
	r.broker.Pause()
	paused := time.Now()
	r.agent.waitLogWithin(t, lost, nAgent+1, bound)
	dAgent := time.Since(paused)
	r.bridge.waitLogWithin(t, lost, nBridge+1, bound)
	dBridge := time.Since(paused)
	r.broker.Resume()
	back := r.faultEnd()
	t.Logf("paused until both clients noticed (keepalive 30 s): the agent after %v, the bridge after %v; first rate from a read after SIGCONT %v after it",
		dAgent.Round(time.Millisecond), dBridge.Round(time.Millisecond), r.waitRatesReadAfter(t, back, 1).Round(time.Millisecond))
}

// agentOffline is what the bridge logs when an agent's LWT arrives: from
// then on it sends the agent no requests (and prints no rounds for it).
const agentOffline = "status=offline"

// agentKilled: SIGKILL until the bridge has seen the LWT (offline), then
// started again on the same boot with its counters continuing: the bridge
// rates across the two runs of the agent.
func agentKilled(t *testing.T, r *rig) {
	r.killAgent(t, func() {}, "agent restarted: first rate from a read of the new agent")
}

// routerRebooted: the agent dies with the router, which comes back, once
// the bridge has seen the LWT, with a new boot id and counters from zero.
func routerRebooted(t *testing.T, r *rig) {
	r.killAgent(t, func() { r.src.reboot("b00710ad-0000-4000-8000-000000000002") },
		"router rebooted: first rate from a read of the new boot")
}

// killAgent kills the agent with SIGKILL, runs whileDown, and starts the
// agent again once the bridge has seen its LWT (offline); it logs how soon
// after the agent's start a rate came from one of its reads.
func (r *rig) killAgent(t *testing.T, whileDown func(), what string) {
	n := strings.Count(r.bridge.stderr.String(), agentOffline)
	r.agent.signal(t, syscall.SIGKILL)
	whileDown()
	r.bridge.waitLog(t, agentOffline, n+1)
	r.startAgent(t)
	back := r.faultEnd()
	t.Logf("%s %v after the agent's start", what, r.waitRatesReadAfter(t, back, 1).Round(time.Millisecond))
}

// ifaceFlapping: eth0 absent and present alternately at every read of
// the agent, flaps times, its counters running on (a link going down and
// up).
func ifaceFlapping(t *testing.T, r *rig) {
	const flaps = 6
	for i := range flaps {
		r.src.setPresent(i%2 == 1)
		r.waitRead(t, proctest.BootNS())
	}
	r.src.setPresent(true)
	back := r.faultEnd()
	t.Logf("flapping over: first rate from a read after it %v after eth0 stayed",
		r.waitRatesReadAfter(t, back, 1).Round(time.Millisecond))
}

// bridgeKills is how often bridgeKilled kills the bridge.
const bridgeKills = 3

// bridgeKilled: IFSTAT_STATE_INTERVAL=1s and SIGKILL at a random offset
// (seeded, logged) within one state interval after a save of a bridge
// that has printed a rate, bridgeKills times. After each kill the state
// file must load and its total must not be lower than after the kill
// before.
func bridgeKilled(t *testing.T, r *rig) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	var last uint64
	m := 0
	for i := range bridgeKills {
		// This bridge samples (a rate of its own) and has saved since.
		r.pd.waitRates(t, r.chart(), m, 1)
		r.waitSave(t, time.Now())
		off := time.Duration(rnd.Int64N(int64(time.Second)))
		time.Sleep(off) // the fault's random phase against the saves
		r.bridge.signal(t, syscall.SIGKILL)
		snap, err := state.Load(r.stateDir)
		if err != nil || snap == nil {
			t.Fatalf("kill %d at +%v: state file does not load: %v (snapshot %v)", i+1, off, err, snap)
		}
		total := snap.Nodes[r.node].Ifaces["eth0"].Totals[rate.RxBytes]
		if total < last {
			t.Errorf("kill %d: total rx %d after the kill, %d before: it went backwards", i+1, total, last)
		}
		t.Logf("kill %d at +%v after a save: state loads, total rx %d (+%d)", i+1, off.Round(time.Millisecond), total, total-last)
		last = total
		m = r.pd.mark(r.chart())
		r.startBridge(t)
		back := r.faultEnd()
		if i == bridgeKills-1 {
			t.Logf("bridge restarted: first rate %v after its start", r.waitRatesReadAfter(t, back, 1).Round(time.Millisecond))
		}
	}
}

// rig is one scenario's processes.
type rig struct {
	bins          binaries
	broker        *brokertest.Broker
	node          string
	bridgeID      string
	stateDir      string
	stateInterval string
	started       time.Time // the first bridge's start
	src           *source
	reps          *truthtest.Replies
	pd            *plugind
	ha            *haWatch
	agent, bridge *proc
	end           proctest.Instant // the end of the fault
	warmReads     int              // renderings served until the first rate
}

func newRig(t *testing.T, bins binaries, node, stateInterval string) *rig {
	t.Helper()
	r := &rig{
		bins: bins, broker: brokertest.Start(t), node: node, bridgeID: "br-" + node,
		stateDir: t.TempDir(), stateInterval: stateInterval, pd: &plugind{},
	}
	r.src = newSource(t, rxRate, "b00710ad-0000-4000-8000-000000000001")
	r.reps = truthtest.RecordReplies(t, r.broker, "ifstat", node)
	r.ha = watchHA(t, r.broker, node)
	r.startAgent(t)
	r.started = time.Now()
	r.startBridge(t)
	return r
}

func (r *rig) chart() string { return "ifstat_" + r.node + ".eth0_net" }

func (r *rig) truth() truth { return truth{iface: "eth0", led: &r.src.led, reps: r.reps} }

func (r *rig) startAgent(t *testing.T) {
	t.Helper()
	r.agent = startProc(t, "agent "+r.node, r.bins.agent, []string{
		"IFSTAT_BROKER=" + r.broker.URL(), "IFSTAT_NODE=" + r.node,
		"IFSTAT_PROC_ROOT=" + r.src.tree.ProcRoot(), "IFSTAT_SYS_ROOT=" + r.src.tree.SysRoot(),
		"IFSTAT_LOG_LEVEL=info",
	}, nil)
}

func (r *rig) startBridge(t *testing.T) {
	t.Helper()
	r.bridge = startProc(t, "bridge "+r.bridgeID, r.bins.bridge, []string{
		"IFSTAT_BROKER=" + r.broker.URL(), "IFSTAT_BRIDGE_ID=" + r.bridgeID, "IFSTAT_NODES=" + r.node,
		"IFSTAT_NETDATA=on", "IFSTAT_INTERVAL=" + bridgeInterval.String(),
		"IFSTAT_HA=on", "IFSTAT_HA_INTERVAL=2s",
		"IFSTAT_STATE_DIR=" + r.stateDir, "IFSTAT_STATE_INTERVAL=" + r.stateInterval,
		"IFSTAT_TARIFFS=flat=*", "IFSTAT_TARIFF_TZ=UTC",
		"IFSTAT_LOG_LEVEL=info",
	}, r.pd.writer(t))
}

// faultEnd notes that the fault is over and returns the instant.
func (r *rig) faultEnd() proctest.Instant {
	r.end = proctest.Now()
	return r.end
}

// waitRatesReadAfter waits for n rates computed from a read after at (the
// later of their two reads, by the agent's own clock) and returns how long
// it took. A round the bridge had in hand before a fault does not count.
func (r *rig) waitRatesReadAfter(t *testing.T, at proctest.Instant, n int) time.Duration {
	t.Helper()
	tr := r.truth()
	return r.pd.waitRounds(t, r.chart(), 0, n, func(v value) bool {
		if v.gap {
			return false
		}
		read, ok := tr.readOf(v)
		return ok && read > at.BootNS
	}, "rates from reads after "+at.Wall.Format("15:04:05.000"))
}

// waitRead waits until the agent has read the counters after bootNS.
func (r *rig) waitRead(t *testing.T, bootNS int64) {
	t.Helper()
	deadline := time.Now().Add(backGuard)
	for {
		if s, ok := r.src.led.Last(); ok && s.At.BootNS > bootNS {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no read of the counters within %v", backGuard)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSave waits until the bridge has saved its state file after since.
func (r *rig) waitSave(t *testing.T, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(backGuard)
	for {
		if fi, err := os.Stat(filepath.Join(r.stateDir, state.FileName)); err == nil && fi.ModTime().After(since) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no save of %s within %v", filepath.Join(r.stateDir, state.FileName), backGuard)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// warmUp waits until the bridge prints a rate, so the fault hits a bridge
// that has a baseline.
func (r *rig) warmUp(t *testing.T) {
	t.Helper()
	r.pd.waitRates(t, r.chart(), 0, 1)
	r.warmReads = len(r.src.led.All())
	t.Logf("first rate %v after the bridge's start", time.Since(r.started).Round(time.Millisecond))
}

// afterFault is how many rates from reads after the fault every scenario
// waits for before it is judged.
const afterFault = 3

// finish checks what every scenario promises once the fault is over.
func (r *rig) finish(t *testing.T) {
	t.Helper()
	d := r.waitRatesReadAfter(t, r.end, afterFault)
	dHA := r.ha.waitWindowAfter(t, r.end.Wall)
	t.Logf("after the fault: %d rates from reads after it within %v, a Home Assistant window after it within %v",
		afterFault, d.Round(time.Millisecond), dHA.Round(time.Millisecond))

	for topic, id := range map[string]string{
		"ifstat/" + r.node + "/status":            "agent",
		"ifstat/bridge/" + r.bridgeID + "/status": "bridge",
	} {
		if got := retained(t, r.broker, "check-"+id+"-"+r.node, topic); got != "online" {
			t.Errorf("retained %s status on %s = %q, want online", id, topic, got)
		}
	}

	// The bridge saves on SIGTERM. Its last sample is one of the last
	// reads: without a bridge nobody asks the agent to read.
	r.bridge.signal(t, syscall.SIGTERM)
	if code := r.bridge.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("bridge exit code %d after SIGTERM, want 0", code)
	}
	snap, err := state.Load(r.stateDir)
	if err != nil || snap == nil {
		t.Fatalf("state file: %v (snapshot %v)", err, snap)
	}
	ns := snap.Nodes[r.node]
	var per map[string]struct {
		State tariff.State `json:"state"`
	}
	if err := json.Unmarshal(ns.Extra["tariff"], &per); err != nil {
		t.Fatalf("tariff state %s: %v", ns.Extra["tariff"], err)
	}
	flat := per["eth0"].State.Lifetime["flat"].Rx
	total := ns.Ifaces["eth0"].Totals[rate.RxBytes]
	if flat != total {
		t.Errorf("tariff flat total rx %d, rate total %d: the only tariff must hold all", flat, total)
	}
	tot := servedTotals(&r.src.led, "eth0")
	first := r.judgeTotal(t, tot, total)

	tr := r.truth()
	nd := r.pd.judgeExact(t, r.chart(), tr)
	ha := r.ha.judgeExact(t, nd, tot, first)
	n := truthtest.CheckServed(t, tr.led, tr.reps, tr.iface)
	t.Logf("%s: netdata: %v; home assistant: %v; %d replies recorded, each served before its mono_ns", t.Name(), nd, ha, n)
	if nd.exact+nd.unconfirmed < afterFault || ha.exact+ha.fromServed < 1 {
		t.Errorf("too few rates judged: %d netdata, %d home assistant", nd.exact+nd.unconfirmed, ha.exact+ha.fromServed)
	}
}

// judgeTotal: the bridge's total must be exactly the bytes served from its
// first sample, one of the first renderings, to its last, one of the last
// (no traffic lost, none counted twice; a reboot's counters restart from
// zero at the read before). It returns the index of the first sample's
// rendering in tot (-1 when nothing matches).
func (r *rig) judgeTotal(t *testing.T, tot served, total uint64) int {
	t.Helper()
	// The first sample is one of the renderings served until the first
	// rate (the agent reads once at its start; replies may come late).
	// The last: the reply to the last request may be in flight at
	// SIGTERM, and the agent's watch reads between requests (a burst of
	// reads 10 ms apart after eth0 came back), so it is one of those
	// served in the last two request intervals.
	firsts, lasts := r.warmReads, 3
	if n := len(tot.at); n > 0 {
		for lasts < n && tot.at[n-1].BootNS-tot.at[n-1-lasts].BootNS <= int64(2*time.Second) {
			lasts++
		}
	}
	f, l := tot.between(total, firsts, lasts)
	if f < 0 {
		var all uint64
		if n := len(tot.cum); n > 0 {
			all = tot.cum[n-1]
		}
		t.Errorf("tariff total rx %d bytes is not the bytes served from one of the first %d renderings to one of the last %d (%d renderings, %d bytes from the first to the last)",
			total, firsts, lasts, len(tot.cum), all)
		return -1
	}
	t.Logf("tariff total rx %d bytes = the bytes served from rendering %d to rendering %d of %d (%.3f s apart): the truth",
		total, f, l, len(tot.cum), float64(tot.at[l].BootNS-tot.at[f].BootNS)/1e9)
	return f
}
