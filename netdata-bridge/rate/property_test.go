package rate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// agentModel plays one interface of one agent: counters that rise, wrap at
// 2^32 (wide == false) or run in 64 bits, restart, and replies that go
// stale, get reordered or duplicated.
type agentModel struct {
	rng     *rand.Rand
	wide    bool
	boot    int
	ifindex int64
	mono    int64
	vals    Values
	truth   Values // traffic the counters really carried
	sent    []Sample
	resets  bool
}

func (m *agentModel) sample() Sample {
	return Sample{BootID: bootID(m.boot), MonoNS: m.mono, Ifindex: m.ifindex, Values: m.vals}
}

func bootID(n int) string { return "boot-" + strconv.Itoa(n) }

// traffic adds up to 1 Gbit/s for dt, with plausible packet sizes.
func (m *agentModel) traffic(dt int64) {
	for dir := range 2 {
		pkts := m.rng.Uint64N(uint64(dt)/12_000 + 1) // with <= 1500 bytes each: <= 1 Gbit/s
		size := 60 + m.rng.Uint64N(1441)
		m.add(Counter(dir), pkts*size)
		m.add(Counter(dir+2), pkts)
		if m.rng.IntN(4) == 0 {
			m.add(Counter(dir+4), m.rng.Uint64N(50))
			m.add(Counter(dir+6), m.rng.Uint64N(50))
		}
	}
}

func (m *agentModel) add(c Counter, d uint64) {
	m.truth[c] += d
	m.vals[c] += d
	if !m.wide {
		m.vals[c] &= 1<<32 - 1
	}
}

func (m *agentModel) start() {
	for i := range m.vals {
		if m.wide {
			// anywhere, above 2^63 too, but far enough from 2^64 for a run
			m.vals[i] = min(m.rng.Uint64(), 1<<64-1<<50)
		} else {
			m.vals[i] = m.rng.Uint64N(1 << 32)
		}
	}
	// A packet counter near 2^32 beside a byte counter near 2^32 makes a
	// reset to small values look like a consistent double wrap; keep
	// packets away from that so the property is about the rules.
	m.vals[RxPackets] = m.rng.Uint64N(1 << 31)
	m.vals[TxPackets] = m.rng.Uint64N(1 << 31)
}

// next returns the next reply the bridge sees.
func (m *agentModel) next() Sample {
	dt := 800_000_000 + m.rng.Int64N(400_000_000)
	k := m.rng.IntN(100)
	switch {
	case k < 5 && len(m.sent) > 2: // reordered: an older reply of this or the previous boot
		s := m.sent[len(m.sent)-1-m.rng.IntN(3)]
		if s.BootID == m.sample().BootID || s.BootID == bootID(m.boot-1) {
			return s
		}
	case k < 8 && len(m.sent) > 0: // duplicate
		return m.sent[len(m.sent)-1]
	case k < 13: // stale: time passes, the driver shows nothing new
		m.mono += dt
	case k < 16:
		m.mono += 10 * dt // a gap
		m.traffic(10 * dt)
	case k < 18 && m.resets: // reboot
		m.boot++
		m.mono = 20_000_000_000 + dt
		m.vals = Values{}
		m.traffic(dt)
	case k < 20 && m.resets: // interface re-created
		m.ifindex++
		m.mono += dt
		m.vals = Values{}
		m.traffic(dt)
	case k < 22 && m.resets: // counters reset in place
		m.mono += dt
		m.vals = Values{}
		m.traffic(dt)
	default:
		m.mono += dt
		m.traffic(dt)
	}
	s := m.sample()
	m.sent = append(m.sent, s)
	return s
}

func TestPropertyRandomSequences(t *testing.T) {
	t.Parallel()
	const maxGap = 3_000_000_000
	for seed := range uint64(200) {
		for _, resets := range []bool{false, true} {
			m := &agentModel{rng: rand.New(rand.NewPCG(seed, 42)), wide: seed%2 == 1, ifindex: 3, mono: 50_000_000_000, resets: resets}
			m.start()
			tr := New(Config{MaxGapNS: maxGap})
			first := tr.Update(m.sample())
			m.truth = Values{}
			m.sent = append(m.sent, m.sample())
			prev := first.Total
			var booked Values
			var wraps int
			for i := range 500 {
				s := m.next()
				r := tr.Update(s)
				where := func() string {
					return fmt.Sprintf("seed %d resets %v step %d: Update(%+v) = %+v", seed, resets, i, s, r)
				}
				for c := range N {
					if r.Total[c] < prev[c] {
						t.Fatalf("%s: total of %v decreased from %d", where(), Counter(c), prev[c])
					}
					booked[c] += r.Delta[c]
					if r.Wrapped[c] {
						wraps++
					}
				}
				if r.Status == Stale || r.Status == OutOfOrder || r.Status == Implausible {
					if r.Delta != (Values{}) {
						t.Fatalf("%s: status %v with a delta", where(), r.Status)
					}
				}
				if r.Rate != (r.Status == OK) {
					t.Fatalf("%s: Rate %v with status %v", where(), r.Rate, r.Status)
				}
				if r.Rate {
					window := uint64(r.DtNS) + DefaultRefreshNS
					bytesMax := MulDiv(MulDiv(DefaultMaxBitsPerSec, 11, 80), window, 1e9)
					for c := range N {
						bound := bytesMax
						if Counter(c) > TxBytes {
							bound /= MinPacketBytes
						}
						if r.Delta[c] > bound {
							t.Fatalf("%s: %v delta %d over the bound %d", where(), Counter(c), r.Delta[c], bound)
						}
					}
					if r.DtNS > maxGap {
						t.Fatalf("%s: rate over %d ns, more than MaxGapNS", where(), r.DtNS)
					}
				}
				if booked != r.Total {
					t.Fatalf("%s: sum of deltas %v != total", where(), booked)
				}
				prev = r.Total
			}
			for c := range N {
				if resets && booked[c] > m.truth[c] {
					t.Fatalf("seed %d: %v booked %d, more than the %d carried", seed, Counter(c), booked[c], m.truth[c])
				}
				if !resets && booked[c] != m.truth[c] {
					t.Fatalf("seed %d without resets: %v booked %d, carried %d", seed, Counter(c), booked[c], m.truth[c])
				}
			}
			if !m.wide && !resets && seed < 4 {
				t.Logf("seed %d (32-bit, no resets): %d wraps, totals exact", seed, wraps)
			}
		}
	}
}
