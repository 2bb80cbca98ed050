package faulttest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

// rxRate is eth0's receive rate in every scenario: 1.25 MB/s, 10 Mbit/s.
const rxRate = 1_250_000.0

// TestFaults runs every scenario side by side, each with its own broker,
// agent, bridge and counter source. The subtests run in goroutines rather
// than with t.Parallel: they mostly sleep, and go test's -parallel default
// (GOMAXPROCS, 2 on the CI machine) would run them two at a time.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("real mosquitto, agent and bridge processes for minutes; skipped with -short")
	}
	bins := buildBinaries(t)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, sc := range []struct {
		name          string
		stateInterval string
		run           func(t *testing.T, r *rig)
	}{
		{"broker_killed_10x", "2s", brokerKilled},
		{"broker_paused", "2s", brokerPaused},
		{"agent_killed", "2s", agentKilled},
		{"router_rebooted", "2s", routerRebooted},
		{"iface_flapping", "2s", ifaceFlapping},
		{"bridge_killed_after_saves", "1s", bridgeKilled},
	} {
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

// brokerKilled: SIGKILL and restart, ten times, each 2 s after the rates
// came back. Nothing survives a restart (no persistence): retained
// statuses must be published again by the agent and the bridge.
//
// Measured: the time back grows 1.5, 1.5, 2.4, 4.5, 8.5, 17.5 s and then
// stays at ~31 s. paho (v1.5.1 backoff.go) treats connection losses less
// than 2×3 s + the last sleep apart as continual and doubles the sleep up
// to mqttx.MaxReconnectInterval (30 s); only the guard is asserted.
func brokerKilled(t *testing.T, r *rig) {
	for i := range 10 {
		r.broker.Kill()
		time.Sleep(500 * time.Millisecond)
		r.broker.Restart()
		at := time.Now()
		t.Logf("kill %d: first rate %v after the broker came back", i+1, r.pd.firstValueAfter(t, r.chart(), at).Round(time.Millisecond))
		time.Sleep(2 * time.Second)
	}
}

// pausedFor is longer than mqttx.KeepAlive (30 s): both clients must
// notice a broker that holds the connection open and answers nothing.
const pausedFor = 40 * time.Second

// brokerPaused: SIGSTOP for longer than the keepalive, then SIGCONT.
func brokerPaused(t *testing.T, r *rig) {
	r.broker.Pause()
	time.Sleep(pausedFor)
	r.broker.Resume()
	at := time.Now()
	t.Logf("paused %v (keepalive 30 s): first rate %v after SIGCONT", pausedFor, r.pd.firstValueAfter(t, r.chart(), at).Round(time.Millisecond))
}

// agentKilled: SIGKILL (the LWT says offline), 2.5 s down, started again
// on the same boot with its counters continuing.
func agentKilled(t *testing.T, r *rig) {
	r.agent.signal(t, syscall.SIGKILL)
	time.Sleep(2500 * time.Millisecond)
	r.startAgent(t)
	at := time.Now()
	t.Logf("agent restarted: first rate %v after its start", r.pd.firstValueAfter(t, r.chart(), at).Round(time.Millisecond))
}

// routerRebooted: the agent dies with the router, which comes back with a
// new boot id and counters from zero.
func routerRebooted(t *testing.T, r *rig) {
	r.agent.signal(t, syscall.SIGKILL)
	r.src.reboot("b00710ad-0000-4000-8000-000000000002")
	time.Sleep(1500 * time.Millisecond)
	r.startAgent(t)
	at := time.Now()
	t.Logf("router rebooted: first rate %v after the agent's start", r.pd.firstValueAfter(t, r.chart(), at).Round(time.Millisecond))
}

// ifaceFlapping: eth0 absent and present alternately every second for
// 12 s, its counters running on (a link going down and up).
func ifaceFlapping(t *testing.T, r *rig) {
	for i := range 12 {
		r.src.setPresent(i%2 == 1)
		time.Sleep(time.Second)
	}
	r.src.setPresent(true)
	at := time.Now()
	t.Logf("flapping over: first rate %v after eth0 stayed", r.pd.firstValueAfter(t, r.chart(), at).Round(time.Millisecond))
}

// bridgeKilled: IFSTAT_STATE_INTERVAL=1s and SIGKILL at random offsets
// (seeded, logged), six times. After each kill the state file must load
// and its total must not be lower than after the kill before.
func bridgeKilled(t *testing.T, r *rig) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	var last uint64
	for i := range 6 {
		// A rate has been printed: the bridge runs and has saved at
		// least once (every second) within the offset below.
		r.pd.firstValueAfter(t, r.chart(), time.Now())
		off := 1000*time.Millisecond + time.Duration(rnd.Int64N(int64(1500*time.Millisecond)))
		time.Sleep(off)
		r.bridge.signal(t, syscall.SIGKILL)
		snap, err := state.Load(r.stateDir)
		if err != nil || snap == nil {
			t.Fatalf("kill %d at +%v: state file does not load: %v (snapshot %v)", i+1, off, err, snap)
		}
		total := snap.Nodes[r.node].Ifaces["eth0"].Totals[rate.RxBytes]
		if total < last {
			t.Errorf("kill %d: total rx %d after the kill, %d before: it went backwards", i+1, total, last)
		}
		t.Logf("kill %d at +%v: state loads, total rx %d (+%d)", i+1, off.Round(time.Millisecond), total, total-last)
		last = total
		r.startBridge(t)
		at := time.Now()
		t.Logf("bridge restarted: first rate %v after its start", r.pd.firstValueAfter(t, r.chart(), at).Round(time.Millisecond))
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
	pd            *plugind
	ha            *haWatch
	agent, bridge *proc
}

func newRig(t *testing.T, bins binaries, node, stateInterval string) *rig {
	t.Helper()
	r := &rig{
		bins: bins, broker: brokertest.Start(t), node: node, bridgeID: "br-" + node,
		stateDir: t.TempDir(), stateInterval: stateInterval, pd: &plugind{},
	}
	r.src = newSource(t, rxRate, "b00710ad-0000-4000-8000-000000000001")
	r.ha = watchHA(t, r.broker, node)
	r.startAgent(t)
	r.started = time.Now()
	r.startBridge(t)
	return r
}

func (r *rig) chart() string { return "ifstat_" + r.node + ".eth0_net" }

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
		"IFSTAT_NETDATA=on", "IFSTAT_INTERVAL=1s",
		"IFSTAT_HA=on", "IFSTAT_HA_INTERVAL=2s",
		"IFSTAT_STATE_DIR=" + r.stateDir, "IFSTAT_STATE_INTERVAL=" + r.stateInterval,
		"IFSTAT_TARIFFS=flat=*", "IFSTAT_TARIFF_TZ=UTC",
		"IFSTAT_LOG_LEVEL=info",
	}, r.pd.writer(t))
}

// warmUp waits until the bridge prints rates.
func (r *rig) warmUp(t *testing.T) {
	t.Helper()
	d := r.pd.firstValueAfter(t, r.chart(), r.started)
	t.Logf("first rate %v after the bridge's start", d.Round(time.Millisecond))
	time.Sleep(3 * time.Second)
}

// finish checks what every scenario promises once the fault is over.
func (r *rig) finish(t *testing.T) {
	t.Helper()
	// Some exact seconds after the fault, so the end state is judged.
	time.Sleep(5 * time.Second)

	for topic, id := range map[string]string{
		"ifstat/" + r.node + "/status":            "agent",
		"ifstat/bridge/" + r.bridgeID + "/status": "bridge",
	} {
		if got := retained(t, r.broker, "check-"+id+"-"+r.node, topic); got != "online" {
			t.Errorf("retained %s status on %s = %q, want online", id, topic, got)
		}
	}

	rates, gaps := r.pd.judge(t, r.chart(), rxRate*8)
	haRates, haNulls := r.ha.judge(t, rxRate*8)
	t.Logf("netdata: %d exact rates, %d gaps; home assistant: %d exact rx_bps, %d null", rates, gaps, haRates, haNulls)
	if rates < 10 || haRates < 2 {
		t.Errorf("too few rates to judge: %d netdata, %d home assistant", rates, haRates)
	}

	// The agent goes first, so its last reply is the last sample; the
	// bridge then saves on SIGTERM.
	r.agent.signal(t, syscall.SIGKILL)
	time.Sleep(2 * time.Second)
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
	r.judgeTotal(t, total)
}

// judgeTotal: at a constant rate whose counters never lose traffic (a
// reboot restarts them at the last read), the truth of a total is rate ×
// (last sample − first sample). The last sample is one of the last reads;
// the first must be among the reads of the first bridge's first seconds,
// or traffic was lost.
func (r *rig) judgeTotal(t *testing.T, total uint64) {
	t.Helper()
	reads := r.src.servedReads()
	var lastOK []read
	for i := len(reads) - 1; i >= 0 && len(lastOK) < 3; i-- {
		if reads[i].ok {
			lastOK = append(lastOK, reads[i])
		}
	}
	early := r.started.Add(8 * time.Second)
	for _, last := range lastOK {
		for _, first := range reads {
			if !first.ok || first.at.After(early) {
				continue
			}
			truth := rxRate * last.at.Sub(first.at).Seconds()
			// Floors: one per counter segment (reboot) and read.
			if math.Abs(float64(total)-truth) <= 4 {
				t.Logf("tariff total rx %d bytes = rate × (%s − %s) = %.1f: the truth",
					total, last.at.Format("15:04:05.000"), first.at.Format("15:04:05.000"), truth)
				return
			}
		}
	}
	t.Errorf("tariff total rx %d bytes matches no span from the first bridge's first 8 s to the last reads (%d reads; last %s: whole span would be %.0f)",
		total, len(reads), lastOK[0].at.Format(time.TimeOnly), rxRate*lastOK[0].at.Sub(r.started).Seconds())
}
