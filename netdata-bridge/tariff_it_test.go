package bridge_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

// read is one read of a rebootReader: its wall clock and the mono_ns it
// reported.
type read struct {
	at   time.Time
	mono int64
	boot string
}

// rebootReader counts bytes at a constant rate on the real clock and can
// "reboot": a new boot id, counters from zero, the reboot placed right
// after the previous read so that no traffic is lost to the counters.
type rebootReader struct {
	mu      sync.Mutex
	rate    float64 // bytes per second
	boot    string
	since   time.Time // counters are rate × (t − since)
	reboot  bool
	reads   []read
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
	mono := now.UnixNano() + r.monoOff
	r.reads = append(r.reads, read{at: now, mono: mono, boot: r.boot})
	b := uint64(math.Floor(now.Sub(r.since).Seconds() * r.rate))
	return netdev.Snapshot{MonoNS: mono, TimeNS: now.UnixNano(),
		Ifaces: map[string]wire.Counters{"eth0": {RxBytes: b, TxBytes: b / 2, RxPackets: b / 1000, TxPackets: b / 2000, Ifindex: 2, SpeedMbps: 1000}}}, nil
}

func (r *rebootReader) BootID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.boot
}

func (r *rebootReader) allReads() []read {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]read(nil), r.reads...)
}

// tzif returns a zone in the TZif format (RFC 8536, version 1) that is UTC
// until jump and UTC+shift from jump on; without a jump (zero) it is UTC
// for ever. Whole-minute offsets only: RFC 3339, in which the bridge stores
// times, has no seconds in offsets.
func tzif(jump time.Time, shift time.Duration) []byte {
	var b bytes.Buffer
	put := func(v any) { binary.Write(&b, binary.BigEndian, v) }
	b.WriteString("TZif")
	b.Write(make([]byte, 16)) // version 1, reserved
	chars := "UTC\x00"
	timecnt, typecnt := 0, 1
	if !jump.IsZero() {
		chars += "JMP\x00"
		timecnt, typecnt = 1, 2
	}
	// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	for _, n := range []int{0, 0, 0, timecnt, typecnt, len(chars)} {
		put(uint32(n))
	}
	if timecnt == 1 {
		put(int32(jump.Unix()))
		put(uint8(1)) // the transition is to type 1
	}
	put(int32(0)) // type 0: UTC, standard time, abbreviation at 0
	put([2]uint8{0, 0})
	if typecnt == 2 {
		put(int32(shift / time.Second)) // type 1: the jump, "daylight", at 4
		put([2]uint8{1, 4})
	}
	b.WriteString(chars)
	return b.Bytes()
}

// writeZone installs zone data as dir/name, atomically: a bridge starting
// meanwhile reads the old zone or the new one.
func writeZone(t *testing.T, dir, name string, data []byte) *time.Location {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".tmp", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

// tariffSave is what a state save says about the node of
// TestTariffsAcrossFaults.
type tariffSave struct {
	cp   rate.Checkpoint
	life map[string]tariff.Usage
}

func (s tariffSave) rx(name string) uint64 { return s.life[name].Rx }

// loadTariffSave reads the state file; false while there is none or it
// holds no tariff totals for node's eth0 yet.
func loadTariffSave(t *testing.T, dir, node string) (tariffSave, bool) {
	t.Helper()
	snap, err := state.Load(dir)
	if err != nil || snap == nil {
		return tariffSave{}, false
	}
	n, ok := snap.Nodes[node]
	if !ok {
		return tariffSave{}, false
	}
	var per map[string]struct {
		State tariff.State `json:"state"`
	}
	if err := json.Unmarshal(n.Extra["tariff"], &per); err != nil {
		return tariffSave{}, false
	}
	if _, ok := per["eth0"]; !ok {
		return tariffSave{}, false
	}
	return tariffSave{cp: n.Ifaces["eth0"], life: per["eth0"].State.Lifetime}, true
}

// waitSave polls the state file until a save satisfies cond; past the
// guard the test fails, naming what it waited for.
func waitSave(t *testing.T, dir, node, what string, cond func(tariffSave) bool) tariffSave {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		if s, ok := loadTariffSave(t, dir, node); ok && cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			s, _ := loadTariffSave(t, dir, node)
			t.Fatalf("no state save %s within %v (last: %+v)", what, guard, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTariffsAcrossFaults: a real mosquitto, the real bridge binary, an
// agent whose counters grow at a known rate; a tariff boundary passes
// while the bridge is killed (SIGKILL: only its periodic save survives),
// then the broker restarts and the router reboots. The per-tariff totals
// the bridge persisted must be the truth to the byte.
//
// Tariffs have minute resolution, and waiting for a real minute boundary
// cost up to 85 s. Instead the boundary is a daylight-saving jump of the
// schedule's zone, put where the test wants it: the zone (IFSTAT_TARIFF_TZ,
// an IANA name the bridge finds through Go's ZONEINFO variable, as any
// program does) is UTC until J and then jumps forward over the wall-clock
// minute at which "late" begins, so late begins at J (the schedule's rule
// for a change the clock skips: the end of the gap). The first bridge
// loads the zone before J is known, without the jump; the zone file gains
// the jump after the kill, before the second bridge loads it: an update
// of the zone data that changes only the future. The two versions agree
// on every instant before J, and the first bridge books nothing after
// it, so the run is the same as if both had loaded the second. Offsets
// are whole minutes (see tzif).
func TestTariffsAcrossFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs mosquitto and the bridge binary; skipped with -short")
	}
	bins := buildBinaries(t)
	b := brokertest.Start(t)
	ctx := t.Context()
	const (
		node     = "tariff-it"
		zoneName = "ifstat-test/Jump"
	)

	// "late" begins at wall-clock minute W, 30 minutes ahead: later than
	// the test lasts, so it passes only through the jump.
	w := time.Now().UTC().Truncate(time.Minute).Add(30 * time.Minute)
	spec := fmt.Sprintf("late=%s-%s;early=*", w.Format("15:04"), w.Add(2*time.Hour).Format("15:04"))
	zoneDir := t.TempDir()
	before := writeZone(t, zoneDir, zoneName, tzif(time.Time{}, 0))
	sched1, err := tariff.Parse(spec, before)
	if err != nil {
		t.Fatal(err)
	}

	const rate = 1_000_000.0
	reader := &rebootReader{rate: rate, boot: "boot-0", since: time.Now().Add(-time.Hour)}
	runAgent(t, ctx, b, node, reader)

	dir := t.TempDir()
	n := 0
	startBridge := func() *proctest.Proc {
		n++
		return proctest.Start(t, fmt.Sprintf("bridge %d", n), bins.bridge, []string{
			"IFSTAT_BROKER=" + b.URL(), "IFSTAT_BRIDGE_ID=br-tariff", "IFSTAT_NODES=" + node,
			"IFSTAT_INTERVAL=250ms", "IFSTAT_STATE_DIR=" + dir, "IFSTAT_STATE_INTERVAL=1s",
			"IFSTAT_TARIFFS=" + spec, "IFSTAT_TARIFF_TZ=" + zoneName, "ZONEINFO=" + zoneDir,
			"IFSTAT_HA=off", "IFSTAT_NETDATA=off", "IFSTAT_LOG_LEVEL=warn",
		}, proctest.Guard(guard))
	}

	br := startBridge()
	// The first bridge's totals must survive its SIGKILL, so its periodic
	// save must have happened: wait for one with traffic in it.
	waitSave(t, dir, node, "with early traffic from the first bridge", func(s tariffSave) bool { return s.rx("early") > 0 })
	killedAt := time.Now()
	br.Kill(t) // no final save: the boundary passes while it is down
	if sched1.At(killedAt) != "early" {
		t.Fatalf("tariff %q at the kill, want early", sched1.At(killedAt))
	}

	// The jump, J: the next whole second, at least 300 ms after the kill
	// (the downtime spans it), and a whole-minute shift that carries the
	// wall clock from before W to after it.
	j := killedAt.Add(300 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	shift := w.Sub(j).Truncate(time.Minute) + time.Minute
	sched, err := tariff.Parse(spec, writeZone(t, zoneDir, zoneName, tzif(j, shift)))
	if err != nil {
		t.Fatal(err)
	}
	if got := sched.Boundaries(killedAt, j.Add(time.Second)); len(got) != 1 || !got[0].At.Equal(j) || got[0].Tariff != "late" {
		t.Fatalf("the zone's jump at %s gives boundaries %v, want late at J", j.Format(time.TimeOnly), got)
	}
	t.Logf("schedule %s; the zone jumps %v forward at %s", spec, shift, j.Format(time.TimeOnly))
	time.Sleep(time.Until(j.Add(50 * time.Millisecond)))

	br = startBridge()
	waitSave(t, dir, node, "with late traffic from the second bridge", func(s tariffSave) bool { return s.rx("late") > 0 })

	// Broker restart: retained copies are gone (no persistence), the file
	// remains. The bridge misses at least one tick while it is down.
	b.Stop()
	time.Sleep(500 * time.Millisecond)
	b.Restart()
	// No request reached the agent while the broker was down: a save
	// past its last read so far books an interval after the restart.
	rs := reader.allReads()
	lastBefore := rs[len(rs)-1].mono
	waitSave(t, dir, node, "of a read after the broker restart", func(s tariffSave) bool {
		return s.cp.BootID == "boot-0" && s.cp.LastMonoNS > lastBefore
	})

	// The router reboots: wait until the bridge has booked an interval of
	// the new boot after the first one (the reset).
	reader.mu.Lock()
	reader.reboot = true
	reader.mu.Unlock()
	waitSave(t, dir, node, "of the rebooted agent's second interval", func(s tariffSave) bool {
		reads := reader.allReads()
		k := 0
		for _, r := range reads {
			if r.boot == s.cp.BootID && r.boot != "boot-0" {
				k++
				if r.mono == s.cp.LastMonoNS {
					return k >= 2
				}
			}
		}
		return false
	})

	// SIGTERM: the final save. The agent may go on: the save says which
	// read it reaches (its mono_ns), and that is the truth's end.
	br.Signal(t, syscall.SIGTERM)
	if err := br.Err(); err != nil {
		t.Fatalf("bridge exit: %v", err)
	}
	final, ok := loadTariffSave(t, dir, node)
	if !ok {
		t.Fatal("no tariff totals in the final state file")
	}
	reads := reader.allReads()
	var last time.Time
	for _, r := range reads {
		if r.mono == final.cp.LastMonoNS && r.boot == final.cp.BootID {
			last = r.at
		}
	}
	if last.IsZero() {
		t.Fatalf("the final save's last sample (boot %s, mono_ns %d) is none of the agent's reads", final.cp.BootID, final.cp.LastMonoNS)
	}
	total := final.rx("early") + final.rx("late")

	// The bridge's total is the counters' growth from its first sample to
	// the last: find that first read among those the agent made.
	// After the reboot the counters restarted at the previous read, so no
	// traffic is lost to them: the growth from a read r to the last is
	// rate × (last − r), up to the floors of the two counters read.
	first := time.Time{}
	for _, r := range reads {
		if math.Abs(float64(total)-rate*last.Sub(r.at).Seconds()) <= 2 {
			first = r.at
		}
	}
	want := rate * last.Sub(first).Seconds()
	if first.IsZero() || math.Abs(float64(total)-want) > 2 {
		t.Fatalf("total rx %d bytes matches no span of the agent's reads (rate × (last − first) = %.0f)", total, want)
	}
	// The first sample must be the first bridge's: its totals survived the
	// SIGKILL (periodic save), and the whole downtime is in the total.
	if !first.Before(killedAt) {
		t.Fatalf("the totals start at %s, after the first bridge was killed at %s: its totals were lost",
			first.Format(time.TimeOnly), killedAt.Format(time.TimeOnly))
	}
	wantLate := rate * last.Sub(j).Seconds()
	wantEarly := rate * j.Sub(first).Seconds()
	t.Logf("first sample %s, last %s; early %d (truth %.1f), late %d (truth %.1f)",
		first.Format(time.TimeOnly+".000"), last.Format(time.TimeOnly+".000"), final.rx("early"), wantEarly, final.rx("late"), wantLate)
	// Constant rate: the pro-rata split is the truth, up to the floor of
	// the one interval that crossed the boundary and the counters' own.
	if math.Abs(float64(final.rx("early"))-wantEarly) > 2 || math.Abs(float64(final.rx("late"))-wantLate) > 2 {
		t.Errorf("per-tariff totals early %d late %d, truth %.1f and %.1f", final.rx("early"), final.rx("late"), wantEarly, wantLate)
	}
}

// TestBridgeRejectsBadTariffZone: a value of IFSTAT_TARIFF_TZ the bridge
// cannot use stops it at start-up with exit code 2 and one line naming the
// variable.
func TestBridgeRejectsBadTariffZone(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the bridge binary; skipped with -short")
	}
	bins := buildBinaries(t)
	for _, tz := range []string{"+05:30:10", "+5:30", "Mars/Olympus_Mons"} {
		p := proctest.Start(t, "bridge TZ="+tz, bins.bridge, []string{
			"IFSTAT_BROKER=tcp://127.0.0.1:9", "IFSTAT_BRIDGE_ID=br-tz", "IFSTAT_NETDATA=off",
			"IFSTAT_TARIFFS=a=*", "IFSTAT_TARIFF_TZ=" + tz,
		}, proctest.Guard(guard))
		p.Wait(t)
		msg := strings.TrimSuffix(p.Stderr().String(), "\n")
		if code := p.State().ExitCode(); code != config.ExitUsage {
			t.Errorf("IFSTAT_TARIFF_TZ=%s: exit code %d, want %d; stderr %q", tz, code, config.ExitUsage, msg)
		}
		if !strings.Contains(msg, "IFSTAT_TARIFF_TZ") || strings.Contains(msg, "\n") {
			t.Errorf("IFSTAT_TARIFF_TZ=%s: stderr %q, want one line naming IFSTAT_TARIFF_TZ", tz, msg)
		}
	}
}
