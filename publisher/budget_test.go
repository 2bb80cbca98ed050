package publisher

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func TestCPUShareDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    CPUShare
		wantErr bool
	}{
		{in: "1", want: 1},
		{in: "1%", want: 1},
		{in: " 0.5 % ", want: 0.5},
		{in: "100", want: 100},
		{in: "0", want: 0},
		{in: "off", want: 0},
		{in: "OFF", want: 0},
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "100.5", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "Inf", wantErr: true},
		{in: "1%%", wantErr: true},
		{in: "lots", wantErr: true},
	}
	for _, tt := range tests {
		var c CPUShare = 42
		err := c.Decode(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Decode(%q) = %v, want an error", tt.in, c)
			}
			continue
		}
		if err != nil || c != tt.want {
			t.Errorf("Decode(%q) = %v, %v; want %v", tt.in, c, err, tt.want)
		}
		var back CPUShare
		if err := back.Decode(c.String()); err != nil || back != c {
			t.Errorf("Decode(%q.String() = %q) = %v, %v", tt.in, c.String(), back, err)
		}
	}
}

// TestCPUBudget: spans over the budget halve the probes down to every
// maxThin refreshes; spans under 45 % of it double them back; a span
// between leaves them; no limit never thins.
func TestCPUBudget(t *testing.T) {
	t.Parallel()
	const s = int64(time.Second)
	tests := []struct {
		name  string
		share CPUShare
		used  []float64 // share of a core per span, in percent
		want  []int64   // thin after each span
		burst []bool    // spans with a burst of the watch (nil: none)
	}{
		{"under budget", 1, []float64{0.3, 0.9, 1.0}, []int64{1, 1, 1}, nil},
		{"over, then down to maxThin", 1, []float64{3, 2.5, 1.5, 1.2}, []int64{2, 4, 8, 8}, nil},
		{"over, then fits", 1, []float64{2.5, 0.8, 0.8}, []int64{2, 2, 2}, nil},
		// A step must save a tenth of the CPU it found, or it is undone
		// and the probes held for budgetHold (ten spans).
		{"a step that saves nothing is undone and held", 1, []float64{2.5, 2.5, 2.5, 2.5}, []int64{2, 1, 1, 1}, nil},
		{"a step that saves little is undone", 1, []float64{2.5, 2.3, 2.5}, []int64{2, 1, 1}, nil},
		{"steps that save are kept", 1, []float64{2.5, 2.0, 1.5, 1.2}, []int64{2, 4, 8, 8}, nil},
		{"held for ten spans, then tried again", 1, []float64{2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5}, []int64{2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1}, nil},
		{"well under again", 1, []float64{2.5, 1.2, 0.4, 0.44, 0.6, 0.2}, []int64{2, 4, 2, 1, 1, 1}, nil},
		{"at the edges", 1, []float64{1.01, 0.46, 0.44, 0.99}, []int64{2, 2, 1, 1}, nil},
		{"no limit", 0, []float64{50, 80}, []int64{1, 1}, nil},
		// A burst's span over the budget thins nothing, once.
		{"a burst's span excused once", 1, []float64{2.5, 2.5, 1.2}, []int64{1, 2, 4}, []bool{true, true, false}},
		{"a burst's span, then one without", 1, []float64{2.5, 2.5}, []int64{1, 2}, []bool{true, false}},
		// A burst's span does not show what a step saved: the next does.
		{"bursts every other span", 1, []float64{2.5, 2.5, 2.5, 2.5}, []int64{1, 2, 2, 1}, []bool{true, false, true, false}},
		{"bursts every other span, steps that save", 1, []float64{2.5, 2.5, 2.5, 2.0}, []int64{1, 2, 2, 4}, []bool{true, false, true, false}},
		{"a burst under the budget", 1, []float64{0.5, 0.3}, []int64{1, 1}, []bool{true, true}},
		{"thinned, a burst's span excused, then well under", 1, []float64{2.5, 2.5, 0.4}, []int64{2, 2, 1}, []bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newCPUBudget(tt.share)
			mono, cpu := 100*s, int64(7e9)
			bursts := uint64(200) // the start-up burst's
			if b.due(mono) {
				t.Fatal("due at the first read")
			}
			mono += int64(budgetWarmup) - 1
			if b.due(mono) {
				t.Fatalf("due before %v", budgetWarmup)
			}
			mono++
			if tt.share == 0 {
				if b.due(mono) {
					t.Fatal("due without a limit")
				}
			} else if !b.due(mono) || b.note(mono, cpu, bursts) {
				t.Fatalf("not due after %v, or the first note (which starts a span) changed thin", budgetWarmup)
			}
			var thinned int64
			for i, u := range tt.used {
				if tt.share > 0 && b.due(mono+int64(budgetSpan)-1) {
					t.Fatalf("span %d due before %v", i, budgetSpan)
				}
				if b.thin > 1 {
					thinned += int64(budgetSpan)
				}
				mono += int64(budgetSpan)
				cpu += int64(u / 100 * float64(budgetSpan))
				if i < len(tt.burst) && tt.burst[i] {
					bursts += 40
				}
				if tt.share > 0 {
					if !b.due(mono) {
						t.Fatalf("span %d not due after %v", i, budgetSpan)
					}
					b.note(mono, cpu, bursts)
				}
				if b.thin != tt.want[i] {
					t.Errorf("after span %d (%.2f %%): thin %d, want %d", i, u, b.thin, tt.want[i])
				}
			}
			if b.thinnedNS != thinned {
				t.Errorf("thinned %v, want %v", time.Duration(b.thinnedNS), time.Duration(thinned))
			}
		})
	}
}

// TestProbeAtThin: over budget, two refreshes in a row of every 2·thin
// are probed as always (104, 105, 108, 109, ... at thin 2; 104, 105, 112,
// 113 at thin 4); each other refresh gets one read just before its band,
// none if a read began there or later, and the last before a probed one
// a read half a period after it, none if a read after its band saw it.
func TestProbeAtThin(t *testing.T) {
	t.Parallel()
	const ms = int64(time.Millisecond)
	// The refresh index on the mono clock is k+100 for PhaseNS + k·P.
	est := refresh.Estimate{PeriodNS: 1000 * ms, PhaseNS: 100_000 * ms, Windows: 32, PrecisionNS: 100_000, Confident: true}
	at := func(k int64) int64 { return est.PhaseNS + k*est.PeriodNS }
	bandStart := func(k int64) (int64, int64) {
		d := margin(est, at(k-1)+est.PeriodNS) // planned from a read near the refresh before
		return at(k) - d - ms, at(k) - d
	}
	// pre is the read just before an unprobed refresh's band.
	pre := func(k int64) int64 { return at(k) - margin(est, at(k-1)+est.PeriodNS) - 3*ms/2 }
	first := at(4) + ms // refresh 104's change is seen
	tests := []struct {
		name                  string
		thin                  int64
		first, lastStart, now int64
		want                  int64 // a catch read; 0: the probe band of wantBand
		wantBand              int64
	}{
		{"thin 1 probes the next", 1, first, first, first + 10*ms, 0, 5},
		{"thin 2 probes 105 after 104", 2, first, first, first + 10*ms, 0, 5},
		{"thin 2: a read before 106's band", 2, at(5) + ms, at(5) + ms, at(5) + 10*ms, pre(6), 0},
		{"thin 2: 106's change seen, a read before 107's band", 2, at(6) + 30*ms, at(6) + 30*ms, at(6) + 30*ms + ms/10, pre(7), 0},
		{"thin 2: then one half a period after 107", 2, pre(7) + ms/10, pre(7), pre(7) + ms/10, at(7) + 500*ms, 0},
		{"thin 2 probes 108 once 107 is seen", 2, at(7) + 500*ms, at(7) + 500*ms, at(7) + 500*ms + ms/10, 0, 8},
		{"thin 2: a request after 107's band saw it", 2, at(7) + 30*ms, at(7) + 30*ms, at(7) + 30*ms + ms/10, 0, 8},
		{"thin 2: a request after 107's band saw nothing", 2, at(6) + 30*ms, at(7) + 30*ms, at(7) + 30*ms + ms/10, 0, 8},
		{"thin 2: a read inside 106's band", 2, at(5) + ms, at(6) - ms, at(6) - ms + ms/10, pre(7), 0},
		{"thin 2: 105's band passed without a change", 2, first, at(5) + 5*ms, at(5) + 5*ms + ms/10, pre(6), 0},
		{"a read that ran past the pre-band read: at once", 2, at(5) + ms, at(5) + ms, pre(6) + ms/2, pre(6) + ms/2, 0},
		{"thin 4: a read before 106's band", 4, at(5) + ms, at(5) + ms, at(5) + 10*ms, pre(6), 0},
		{"thin 4: 106-110 passed, a read before 111's band", 4, at(10) + ms, at(10) + ms, at(10) + 10*ms, pre(11), 0},
		{"thin 4: after 111's, one half a period after it", 4, pre(11) + ms/10, pre(11), pre(11) + ms/10, at(11) + 500*ms, 0},
		{"thin 4 probes 112", 4, at(11) + 500*ms, at(11) + 500*ms, at(11) + 500*ms + ms/10, 0, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probeAt(est, tt.first, tt.lastStart, tt.now, tt.thin, 0)
			if tt.want != 0 {
				if got != tt.want {
					t.Errorf("next read at %+.3f ms from refresh 105, want %+.3f", float64(got-at(5))/1e6, float64(tt.want-at(5))/1e6)
				}
				return
			}
			lo, hi := bandStart(tt.wantBand)
			if got <= lo || got > hi {
				t.Errorf("next read at %+.3f ms from refresh %d, want its probe band's start (%+.3f, %+.3f]", float64(got-at(tt.wantBand))/1e6,
					100+tt.wantBand, float64(lo-at(tt.wantBand))/1e6, float64(hi-at(tt.wantBand))/1e6)
			}
		})
	}
}

// TestAutoWatchThin runs the adaptive watch probing a half, a quarter
// and an eighth of the refreshes, as over its CPU budget: every window a reply claims still
// holds the refresh that made its values, the reads fall with thin, and
// through the bridge's rule the samples stay within the default's
// targets (0.5 %, gaps at most 2 %): the refreshes between the probed
// ones are claimed in the fit's band.
func TestAutoWatchThin(t *testing.T) {
	t.Parallel()
	const dur, warmup = 150 * time.Second, 30 * time.Second
	drivers := []struct {
		name string
		d    simDriver
		req  time.Duration
		// targetsTo is the sparsest probing at which the samples must
		// meet the default's targets.
		targetsTo int64
	}{
		{"0.9765 s", simDriver{period: 976_500_000, phase: 300e6}, time.Second, maxThin},
		{"0.5 s, phase 0.3, 2 ms late", simDriver{period: 500e6, phase: 300e6, jitter: 2e6}, time.Second, maxThin},
		{"2 s", simDriver{period: 2e9, phase: 1e9}, time.Second, maxThin},
		// Sampled every 0.2 s, a refresh claimed in the band is off by
		// up to half the jitter in a 0.5 s span: the first step over
		// the budget spaces the probes instead (probing).
		{"0.5 s, phase 0.3, 4 ms late, requests every 0.2 s", simDriver{period: 500e6, phase: 300e6, jitter: 4e6}, 200 * time.Millisecond, 2},
	}
	for _, dt := range drivers {
		t.Run(dt.name, func(t *testing.T) {
			t.Parallel()
			var base float64
			for _, thin := range []int64{1, 2, 4, 8} {
				d := dt.d
				d.bytesPerSec = 12_500_000
				res := simulateThinned(t, &d, dur, dt.req, warmup, nil, thin)
				j := judge(t, &d, res)
				perRefresh := float64(res.watchReads) / (dur - warmup).Seconds() * float64(d.period) / 1e9
				t.Logf("thin %d: %.2f watch reads per refresh, %d samples, %d gaps, max %.3f %%, lost %d, doubts %d, withheld (after stretch, before band, late probe, after band) %v",
					thin, perRefresh, j.samples, j.gaps, 100*j.maxErr, res.lost, res.doubts, res.w.withheld[1:])
				if thin == 1 {
					base = perRefresh
				} else if want := base * (1 + float64(thin)) / (2 * float64(thin)); perRefresh > want {
					// Probes on one refresh in thin, one read on the others.
					t.Errorf("thin %d: %.2f watch reads per refresh, want at most %.2f (%.2f probing all)", thin, perRefresh, want, base)
				}
				if res.missedTruths > 0 {
					t.Errorf("thin %d: %d reply windows do not hold the refresh that made their values", thin, res.missedTruths)
				}
				if res.lost > 0 {
					t.Errorf("thin %d: the fit was lost %d times", thin, res.lost)
				}
				if j.off10 > 0 || 50*j.gaps > j.samples || thin <= dt.targetsTo && j.maxErr >= 0.005 {
					t.Errorf("thin %d: %d samples, %d gaps, max %.3f %%, %d >= 10 %%: want max < 0.5 %%, gaps <= 2 %%", thin, j.samples, j.gaps, 100*j.maxErr, j.off10)
				}
			}
		})
	}
}

// TestAutoWatchManyClocksThin: with eight refresh clocks the others'
// probes see each clock's unprobed changes. Each step over the budget
// reads at least a fifth less than the one before, though the four
// clocks up to 4 ms late have their probes spaced 2 ms apart at the
// first step rather than halved (probing), and the last reads at most
// 40 % of what probing every refresh a millisecond apart does.
func TestAutoWatchManyClocksThin(t *testing.T) {
	t.Parallel()
	perS := map[int64]float64{}
	for _, thin := range []int64{1, 2, 4, 8} {
		reads, widest, w := manyClocks(t, thin)
		perS[thin] = reads
		t.Logf("thin %d: %.1f watch reads/s, widest windows %v", thin, reads, widest)
		// The four clocks up to 4 ms late are the ones spaced.
		want := 4
		if thin == 1 {
			want = 0
		}
		if got := w.spaced(); got != want {
			t.Errorf("thin %d: %d interfaces with spaced probes, want %d", thin, got, want)
		}
	}
	for _, thin := range []int64{2, 4, 8} {
		if perS[thin] > 0.8*perS[thin/2] {
			t.Errorf("thin %d: %.1f watch reads/s, want at most 80 %% of %.1f (thin %d)", thin, perS[thin], perS[thin/2], thin/2)
		}
	}
	if perS[maxThin] > 0.4*perS[1] {
		t.Errorf("thin %d: %.1f watch reads/s, want at most 40 %% of %.1f probing all", maxThin, perS[maxThin], perS[1])
	}
}

// TestAgentWatchBudget: the agent's CPU time, read once per budget span
// of watch reads from a minute after its first, thins the adaptive watch while over IFSTAT_WATCH_CPU
// and thickens it again well under, and says so in its log; a CPU clock
// that fails changes nothing, and off never thins.
func TestAgentWatchBudget(t *testing.T) {
	t.Parallel()
	type step struct {
		reads    int
		perRead  time.Duration // CPU per read; each read is a second of mono (fakeReader)
		wantThin int64
	}
	tests := []struct {
		name    string
		share   CPUShare
		failing bool
		steps   []step
		wantLog []string
	}{
		{name: "over, then under", share: 1, steps: []step{
			{61, 50 * time.Millisecond, 1},    // the start-up minute is not measured; then a span begins
			{60, 20 * time.Millisecond, 2},    // 2 %
			{60, 16 * time.Millisecond, 4},    // still over, a fifth saved
			{60, 12 * time.Millisecond, 8},    // still over, a quarter saved
			{60, 10500 * time.Microsecond, 8}, // still over, 1 in 8 at most
			{60, 4 * time.Millisecond, 4},     // 0.4 %: twice would still fit
			{60, 6 * time.Millisecond, 4},     // 0.6 %: twice would not
			{60, time.Millisecond, 2},         // 0.1 %
			{60, time.Millisecond, 1},
		}, wantLog: []string{"over its CPU budget", "probe_every=2", "probe_every=8", "well under its CPU budget", "cpu_pct=2.00", `budget_pct="1%"`, "probe_spaced=0"}},
		{name: "a step that saves nothing", share: 1, steps: []step{
			{61, 50 * time.Millisecond, 1},
			{60, 20 * time.Millisecond, 2},
			{60, 20 * time.Millisecond, 1}, // undone, held
			{60, 20 * time.Millisecond, 1},
		}, wantLog: []string{"over its CPU budget: probing fewer", "saved less than a tenth of its CPU", "probe_every=1"}},
		{name: "off", share: 0, steps: []step{{200, 500 * time.Millisecond, 1}}},
		{name: "CPU time unreadable", share: 1, failing: true, steps: []step{{200, 500 * time.Millisecond, 1}}, wantLog: []string{"reading the agent's CPU time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fr := &fakeReader{ifaces: map[string]wire.Counters{"eth0": {RxBytes: 1, Ifindex: 2}}}
			cfg := validConfig()
			cfg.Watch, cfg.WatchCPU = WatchMode{Auto: true}, tt.share
			var cpu int64
			cpuTime := func() (int64, error) {
				if tt.failing {
					return 0, errors.New("no rusage here")
				}
				return cpu, nil
			}
			var logged bytes.Buffer
			l := logrus.New()
			l.SetOutput(&logged)
			_, newClient := newFakeClient()
			a, err := New(cfg, logrus.NewEntry(l), Deps{Version: "v9.9.9-test", Reader: fr, NewClient: newClient, CPUTime: cpuTime})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				for range s.reads {
					cpu += int64(s.perRead)
					a.watchOnce()
				}
				if a.watch.thin != s.wantThin && !(s.wantThin == 1 && a.watch.thin == 0) {
					t.Errorf("after step %d (%v CPU per second): thin %d, want %d", i, s.perRead, a.watch.thin, s.wantThin)
				}
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logged.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logged.String())
				}
			}
			if n := strings.Count(logged.String(), "CPU time"); tt.failing && n != 1 {
				t.Errorf("the failing CPU clock was logged %d times, want once:\n%s", n, logged.String())
			}
			if tt.share == 0 && strings.Contains(logged.String(), "CPU") {
				t.Errorf("without a budget the log speaks of CPU:\n%s", logged.String())
			}
		})
	}
}

// TestProbing: over the budget an interface whose fit is off by more
// than bandErrNS (precision and jitter) has its probes spaced 2 ms apart
// at the first step and thinned only from the second; one within it
// thins at once; a doubt is always probed in full.
func TestProbing(t *testing.T) {
	t.Parallel()
	calm := refresh.Estimate{PeriodNS: 500e6, PrecisionNS: 300e3, JitterNS: 0, Confident: true}
	late := refresh.Estimate{PeriodNS: 500e6, PrecisionNS: 700e3, JitterNS: 700e3, Confident: true}
	// A strict clock through 2 ms windows of a late driver: its
	// lateness in the precision, none in the jitter.
	strict := refresh.Estimate{PeriodNS: 500e6, PrecisionNS: 1200e3, JitterNS: 0, Confident: true}
	step1, step2 := int64(probeStep), 2*int64(probeStep)
	tests := []struct {
		est                  refresh.Estimate
		thin                 int64
		doubt                bool
		wantThin, wantStepNS int64
	}{
		{calm, 1, false, 1, step1},
		{late, 1, false, 1, step1},
		{calm, 2, false, 2, step1},
		{late, 2, false, 1, step2},
		{late, 4, false, 2, step2},
		{late, maxThin, false, maxThin / 2, step2},
		{calm, maxThin, false, maxThin, step1},
		{late, maxThin, true, 1, step1},
		{calm, 4, true, 1, step1},
		{strict, 2, false, 1, step2},
		{refresh.Estimate{PeriodNS: 500e6, PrecisionNS: int64(bandErrNS) / 2, JitterNS: int64(bandErrNS) / 2, Confident: true}, 2, false, 2, step1},
	}
	for _, tt := range tests {
		thin, step := probing(tt.est, tt.thin, tt.doubt)
		if thin != tt.wantThin || step != tt.wantStepNS {
			t.Errorf("probing(precision %v, jitter %v, thin %d, doubt %v) = thin %d, step %v; want %d, %v", time.Duration(tt.est.PrecisionNS), time.Duration(tt.est.JitterNS), tt.thin, tt.doubt,
				thin, time.Duration(step), tt.wantThin, time.Duration(tt.wantStepNS))
		}
	}
}

// TestProbeAtWideStep: probes 2 ms apart walk the band on their grid and
// add one half a millisecond before its end where the grid leaves none
// within a millisecond of it, so that a refresh late in the band is seen
// inside it.
func TestProbeAtWideStep(t *testing.T) {
	t.Parallel()
	const ms = int64(time.Millisecond)
	est := refresh.Estimate{PeriodNS: 500 * ms, PhaseNS: 100_000 * ms, Windows: 32, PrecisionNS: 100_000, JitterNS: 2 * ms, Confident: true}
	tr := est.PhaseNS + est.PeriodNS // the refresh probed next
	first := est.PhaseNS + ms        // the refresh before was seen
	var reads []int64
	last := first
	for now := first + 10*ms; now < tr+20*ms; {
		next := probeAt(est, first, last, now, 1, 2*ms)
		if next < now || next > tr+20*ms {
			break
		}
		reads = append(reads, next)
		last, now = next, next+ms/10
	}
	d := margin(est, first+10*ms+est.PeriodNS)
	if len(reads) < 3 {
		t.Fatalf("reads %v: want a band of probes", reads)
	}
	for i := 1; i < len(reads); i++ {
		if gap := reads[i] - reads[i-1]; gap > 2*ms || gap <= 0 {
			t.Errorf("reads %d and %d are %v apart, want at most 2 ms", i-1, i, time.Duration(gap))
		}
	}
	edge := false
	for _, r := range reads {
		if r > tr+d-ms && r <= tr+d {
			edge = true
		}
	}
	if !edge {
		t.Errorf("no probe in the band's last millisecond (%+.3f ms from the refresh); reads at %v ms from it", float64(d)/1e6, func() []float64 {
			var o []float64
			for _, r := range reads {
				o = append(o, float64(r-tr)/1e6)
			}
			return o
		}())
	}
	if reads[0] > tr-d || reads[len(reads)-1] < tr+d {
		t.Errorf("probes from %+.3f to %+.3f ms, want the band ±%.3f ms covered", float64(reads[0]-tr)/1e6, float64(reads[len(reads)-1]-tr)/1e6, float64(d)/1e6)
	}
}
