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
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/truthtest"
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
	proctest.SkipShort(t, "runs mosquitto and the bridge binary")
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
	final := stopAndLoad(t, br, dir, node)
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
	proctest.SkipShort(t, "runs the bridge binary")
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

// watchWindow bounds the width of the agent's change windows: its
// adaptive watch (the default) reads a millisecond apart around each
// predicted refresh, and 10 ms apart in the burst that finds the clock.
const watchWindow = 10 * time.Millisecond

// TestTariffBookedWhenFlowedLive: the real agent reads an emulated driver
// (netdevtest.Driver) that refreshes every second at half a second past
// each wall-clock second, the bridge's read instants; the real bridge
// asks every second through a real mosquitto. Traffic starts and stops on
// refresh instants, and a tariff boundary (the zone trick of
// TestTariffsAcrossFaults) passes while it flows, after the bridge has
// fitted the driver's refresh clock. The per-tariff totals the bridge
// saves must be the driver's true traffic on each side of the boundary.
// Booked over read spans they would be off by half a second of traffic.
func TestTariffBookedWhenFlowedLive(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "runs mosquitto, the agent and the bridge binaries")
	proctest.SkipRace(t, "books to the byte once the clock is fitted, within 24 s")
	bins := buildBinaries(t)
	b := brokertest.Start(t)
	const (
		node     = "tariff-flow"
		zoneName = "ifstat-test/FlowJump"
		rxPerSec = 1_000_000
		// fitFor is how long traffic flows before the boundary: the
		// bridge narrows change windows to the fitted refresh instant
		// once it has seen enough of them (about 20 s).
		fitFor = 24 * time.Second
	)

	// The driver's clock is CLOCK_BOOTTIME; its refreshes go half a
	// second past each wall-clock second, as the check has it.
	now := proctest.Now()
	wallMinusBoot := now.Wall.UnixNano() - now.BootNS
	phase := time.Duration(((int64(500*time.Millisecond)-wallMinusBoot)%int64(time.Second) + int64(time.Second)) % int64(time.Second))
	// Traffic flows from the first refresh 3 s on (the bridge's first
	// sample is before it) to fitFor+5 s later: both refresh instants.
	refreshAfter := func(boot int64) int64 {
		k := (boot - int64(phase) + int64(time.Second) - 1) / int64(time.Second)
		return int64(phase) + k*int64(time.Second)
	}
	// The Rate's steps count from the driver's origin, its first clock
	// reading: fixing that reading puts them on refresh instants.
	origin := proctest.BootNS()
	start := refreshAfter(origin + int64(3*time.Second))
	stop := start + int64(fitFor+5*time.Second)
	first := true
	clock := func() int64 {
		if first { // NewDriver's reading, before Serve runs
			first = false
			return origin
		}
		return proctest.BootNS()
	}
	flow := func(perSec uint64) netdevtest.Rate {
		return netdevtest.Rate{{At: time.Duration(start - origin), BytesPerSec: perSec}, {At: time.Duration(stop - origin)}}
	}
	d, err := netdevtest.NewDriver(netdevtest.DriverOptions{Dir: t.TempDir(), Period: time.Second, Phase: phase, Clock: clock,
		Ifaces: []netdevtest.DriverIface{{Name: "eth0", Ifindex: 2, SpeedMbps: 1000, Rx: flow(rxPerSec), Tx: flow(rxPerSec / 2)}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Origin() != origin {
		t.Fatalf("driver origin %d, want the first clock reading %d", d.Origin(), origin)
	}
	ctx := t.Context()
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	t.Cleanup(func() {
		if err := <-served; err != nil && ctx.Err() == nil {
			t.Errorf("driver: %v", err)
		}
	})
	// The agent, started below, must meet the pipe: it once met neither
	// file nor pipe and exited ("no such file or directory").
	if err := d.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}

	// The boundary J: a whole wall second fitFor into the traffic, where
	// the zone jumps over the minute at which "late" begins.
	j := time.Unix(0, start+wallMinusBoot).Add(fitFor).Truncate(time.Second)
	w := time.Now().UTC().Truncate(time.Minute).Add(30 * time.Minute)
	spec := fmt.Sprintf("late=%s-%s;early=*", w.Format("15:04"), w.Add(2*time.Hour).Format("15:04"))
	zoneDir := t.TempDir()
	shift := w.Sub(j).Truncate(time.Minute) + time.Minute
	sched, err := tariff.Parse(spec, writeZone(t, zoneDir, zoneName, tzif(j, shift)))
	if err != nil {
		t.Fatal(err)
	}
	if got := sched.Boundaries(j.Add(-time.Minute), j.Add(time.Minute)); len(got) != 1 || !got[0].At.Equal(j) || got[0].Tariff != "late" {
		t.Fatalf("the zone's jump at %s gives boundaries %v, want late at J", j.Format(time.TimeOnly), got)
	}

	replies := truthtest.RecordReplies(t, b, "ifstat", node)
	proctest.Start(t, "agent "+node, bins.agent, []string{
		"IFSTAT_BROKER=" + b.URL(), "IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + d.ProcRoot(), "IFSTAT_SYS_ROOT=" + d.SysRoot(),
		"IFSTAT_LOG_LEVEL=warn",
	}, proctest.Guard(guard))
	dir := t.TempDir()
	br := proctest.Start(t, "bridge", bins.bridge, []string{
		"IFSTAT_BROKER=" + b.URL(), "IFSTAT_BRIDGE_ID=br-flow", "IFSTAT_NODES=" + node,
		"IFSTAT_INTERVAL=1s", "IFSTAT_STATE_DIR=" + dir, "IFSTAT_STATE_INTERVAL=1s",
		"IFSTAT_TARIFFS=" + spec, "IFSTAT_TARIFF_TZ=" + zoneName, "ZONEINFO=" + zoneDir,
		"IFSTAT_HA=off", "IFSTAT_NETDATA=off", "IFSTAT_LOG_LEVEL=warn",
	}, proctest.Guard(guard))

	// Wait until a read has seen the last refresh of the traffic and the
	// next one (the bridge booked it), then SIGTERM: the final save.
	for {
		rs := replies.All()
		if k := len(rs); k > 0 && rs[k-1].MonoNS > stop+int64(1500*time.Millisecond) {
			break
		}
		if proctest.BootNS() > stop+int64(guard) {
			t.Fatalf("no reply after the traffic stopped (%d replies)", replies.Len())
		}
		time.Sleep(100 * time.Millisecond)
	}
	final := stopAndLoad(t, br, dir, node)
	rs := replies.All()
	// J on the agent's clock, by the pair of the reply nearest to it: the
	// pair the bridge places change instants with.
	jBoot, nearest := int64(0), int64(math.MaxInt64)
	for _, r := range rs {
		if dt := abs64(r.TimeNS - j.UnixNano()); dt < nearest {
			jBoot, nearest = j.UnixNano()-(r.TimeNS-r.MonoNS), dt
		}
	}
	at := func(boot int64) wire.Counters { c, _ := d.True("eth0", boot); return c }
	all, atJ := at(stop), at(jBoot)
	// The bridge books from its first sample on, normally a read before
	// the traffic; under load it may come later: the read whose counters
	// the booked total starts from is the baseline of the truth.
	booked := tariff.Usage{Rx: final.life["early"].Rx + final.life["late"].Rx, Tx: final.life["early"].Tx + final.life["late"].Tx}
	base, found := wire.Counters{}, false
	for _, r := range rs {
		if c := r.Ifaces["eth0"]; c.RxBytes+booked.Rx == all.RxBytes && c.TxBytes+booked.Tx == all.TxBytes && r.MonoNS < jBoot {
			base, found = c, true
			break
		}
	}
	if !found {
		t.Fatalf("booked rx %d tx %d in all: no read before J from which the driver counted that by the end (%d, %d)",
			booked.Rx, booked.Tx, all.RxBytes, all.TxBytes)
	}
	truth := map[string]tariff.Usage{"early": {Rx: atJ.RxBytes - base.RxBytes, Tx: atJ.TxBytes - base.TxBytes},
		"late": {Rx: all.RxBytes - atJ.RxBytes, Tx: all.TxBytes - atJ.TxBytes}}
	// Over read spans, as before: each delta between two replies split
	// over their time_ns span (the reads follow the refreshes by half a
	// second, so half a second of traffic lands on the wrong side of J).
	var readSpanEarly uint64
	for i := 1; i < len(rs); i++ {
		if rs[i-1].Ifaces["eth0"].RxBytes < base.RxBytes {
			continue
		}
		a, b := rs[i-1], rs[i]
		delta := b.Ifaces["eth0"].RxBytes - a.Ifaces["eth0"].RxBytes
		switch {
		case b.TimeNS <= j.UnixNano():
			readSpanEarly += delta
		case a.TimeNS < j.UnixNano():
			readSpanEarly += uint64(float64(delta) * float64(j.UnixNano()-a.TimeNS) / float64(b.TimeNS-a.TimeNS))
		}
	}
	t.Logf("over read spans early would be rx %d (%+d)", readSpanEarly, int64(readSpanEarly)-int64(truth["early"].Rx))
	// The change instants are known to within the agent's change
	// windows, one watch period wide (more when its timer runs late): a
	// delta split at J is off by at most the traffic of a window at each
	// end of its span. Plus one byte per booked interval, the pro-rata
	// floor.
	tol := uint64(2*watchWindow.Seconds()*rxPerSec) + uint64(stop-start)/uint64(time.Second)
	for _, name := range []string{"early", "late"} {
		got, want := final.life[name], truth[name]
		t.Logf("%s: rx %d tx %d; truth rx %d tx %d", name, got.Rx, got.Tx, want.Rx, want.Tx)
		if absDiff(got.Rx, want.Rx) > tol || absDiff(got.Tx, want.Tx) > tol {
			t.Errorf("%s: rx %d tx %d, truth rx %d tx %d (±%d)", name, got.Rx, got.Tx, want.Rx, want.Tx, tol)
		}
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// stopAndLoad stops the bridge with SIGTERM, whose final save is the one
// judged, and returns the node's tariff totals from the state file.
func stopAndLoad(t *testing.T, br *proctest.Proc, dir, node string) tariffSave {
	t.Helper()
	br.Signal(t, syscall.SIGTERM)
	if err := br.Err(); err != nil {
		t.Fatalf("bridge exit: %v", err)
	}
	final, ok := loadTariffSave(t, dir, node)
	if !ok {
		t.Fatal("no tariff totals in the final state file")
	}
	return final
}
