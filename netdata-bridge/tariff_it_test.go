package bridge_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

// rebootReader counts bytes at a constant rate on the real clock and can
// "reboot": a new boot id, counters from zero, the reboot placed right
// after the previous read so that no traffic is lost to the counters.
type rebootReader struct {
	mu      sync.Mutex
	rate    float64 // bytes per second
	boot    string
	since   time.Time // counters are rate × (t − since)
	reboot  bool
	reads   []time.Time
	lastAt  time.Time
	monoOff int64
}

func (r *rebootReader) Read() (netdev.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.reboot {
		r.reboot = false
		r.boot = fmt.Sprintf("boot-%d", now.UnixNano())
		r.since = r.lastAt
		r.monoOff = -now.UnixNano() + 1e9 // CLOCK_BOOTTIME restarts too
	}
	r.lastAt = now
	r.reads = append(r.reads, now)
	b := uint64(math.Floor(now.Sub(r.since).Seconds() * r.rate))
	return netdev.Snapshot{MonoNS: now.UnixNano() + r.monoOff, TimeNS: now.UnixNano(),
		Ifaces: map[string]wire.Counters{"eth0": {RxBytes: b, TxBytes: b / 2, RxPackets: b / 1000, TxPackets: b / 2000, Ifindex: 2, SpeedMbps: 1000}}}, nil
}

func (r *rebootReader) BootID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.boot
}

// TestTariffsAcrossFaults: a real mosquitto, the real bridge binary, an
// agent whose counters grow at a known rate; a tariff boundary passes
// while the bridge is killed (SIGKILL: only its periodic save survives),
// then the broker restarts and the router reboots. The per-tariff totals
// the bridge persisted must be the truth to the byte.
func TestTariffsAcrossFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for a wall-clock minute boundary")
	}
	bins := buildBinaries(t)
	b := brokertest.Start(t)
	ctx := t.Context()

	// The boundary: the next full minute at least 25 s away, in UTC.
	now := time.Now().UTC()
	boundary := now.Truncate(time.Minute).Add(time.Minute)
	if boundary.Sub(now) < 25*time.Second {
		boundary = boundary.Add(time.Minute)
	}
	spec := fmt.Sprintf("late=%s-%s;early=*", boundary.Format("15:04"), boundary.Add(2*time.Hour).Format("15:04"))
	sched, err := tariff.Parse(spec, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("schedule %s, boundary %s", spec, boundary.Format(time.TimeOnly))

	const rate = 1_000_000.0
	reader := &rebootReader{rate: rate, boot: "boot-0", since: time.Now().Add(-time.Hour)}
	stopAgent := runAgent(t, ctx, b, "tariff-it", reader)

	dir := t.TempDir()
	startBridge := func() *exec.Cmd {
		cmd := exec.Command(bins.bridge)
		cmd.Env = append(os.Environ(), "IFSTAT_BROKER="+b.URL(), "IFSTAT_BRIDGE_ID=br-tariff", "IFSTAT_NODES=tariff-it",
			"IFSTAT_STATE_DIR="+dir, "IFSTAT_STATE_INTERVAL=2s", "IFSTAT_TARIFFS="+spec, "IFSTAT_TARIFF_TZ=UTC",
			"IFSTAT_HA=off", "IFSTAT_NETDATA=off", "IFSTAT_LOG_LEVEL=warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	sleepUntil := func(at time.Time) { time.Sleep(time.Until(at)) }

	br := startBridge()
	sleepUntil(boundary.Add(-8 * time.Second))
	br.Process.Signal(syscall.SIGKILL) // no final save: the boundary passes while it is down
	br.Wait()
	sleepUntil(boundary.Add(3 * time.Second))
	br = startBridge()

	time.Sleep(6 * time.Second)
	b.Stop() // broker restart: retained copies are gone (no persistence), the file remains
	time.Sleep(3 * time.Second)
	b.Restart()
	time.Sleep(6 * time.Second)

	reader.mu.Lock()
	reader.reboot = true
	reader.mu.Unlock()
	time.Sleep(5 * time.Second)

	stopAgent()
	reader.mu.Lock()
	last := reader.lastAt
	reads := append([]time.Time(nil), reader.reads...)
	reader.mu.Unlock()
	time.Sleep(2 * time.Second) // the last reply reaches the bridge
	br.Process.Signal(syscall.SIGTERM)
	if err := br.Wait(); err != nil {
		t.Fatalf("bridge exit: %v", err)
	}

	snap, err := state.Load(dir)
	if err != nil || snap == nil {
		t.Fatalf("state file: %v", err)
	}
	var per map[string]struct {
		State tariff.State `json:"state"`
	}
	if err := json.Unmarshal(snap.Nodes["tariff-it"].Extra["tariff"], &per); err != nil {
		t.Fatalf("tariff state: %v", err)
	}
	life := per["eth0"].State.Lifetime
	total := life["early"].Rx + life["late"].Rx

	// The bridge's total is the counters' growth from its first sample to
	// the last: find that first read among those the agent made.
	// After the reboot the counters restarted at the previous read, so no
	// traffic is lost to them: the growth from a read r to the last is
	// rate × (last − r), up to the floors of the two counters read.
	first := time.Time{}
	for _, r := range reads {
		if math.Abs(float64(total)-rate*last.Sub(r).Seconds()) <= 2 {
			first = r
		}
	}
	want := rate * last.Sub(first).Seconds()
	if first.IsZero() || math.Abs(float64(total)-want) > 2 {
		t.Fatalf("total rx %d bytes matches no span of the agent's reads (rate × (last − first) = %.0f)", total, want)
	}
	// The first sample must be the first bridge's: its totals survived the
	// SIGKILL (periodic save), and the whole downtime is in the total.
	if killedAt := boundary.Add(-8 * time.Second); !first.Before(killedAt) {
		t.Fatalf("the totals start at %s, after the first bridge was killed at %s: its totals were lost",
			first.Format(time.TimeOnly), killedAt.Format(time.TimeOnly))
	}
	wantLate := rate * last.Sub(boundary).Seconds()
	wantEarly := rate * boundary.Sub(first).Seconds()
	t.Logf("first sample %s, last %s; early %d (truth %.1f), late %d (truth %.1f)",
		first.Format(time.TimeOnly+".000"), last.Format(time.TimeOnly+".000"), life["early"].Rx, wantEarly, life["late"].Rx, wantLate)
	// Constant rate: the pro-rata split is the truth, up to the floor of
	// the one interval that crossed the boundary and the counters' own.
	if math.Abs(float64(life["early"].Rx)-wantEarly) > 2 || math.Abs(float64(life["late"].Rx)-wantLate) > 2 {
		t.Errorf("per-tariff totals early %d late %d, truth %.1f and %.1f", life["early"].Rx, life["late"].Rx, wantEarly, wantLate)
	}
	if sched.At(boundary.Add(-time.Second)) != "early" || sched.At(boundary) != "late" {
		t.Fatal("schedule does not change at the boundary")
	}
}
