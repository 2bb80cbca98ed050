package rate

import (
	"encoding/binary"
	"math"
	"math/bits"
	"testing"
)

// FuzzUpdate feeds arbitrary sample sequences: Update must not panic,
// totals must never decrease and must equal the saturating sum of the
// deltas, and only OK may carry a rate.
func FuzzUpdate(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 3*sampleBytes))
	seed := make([]byte, 0, 2*sampleBytes)
	for _, v := range []uint64{1, 1 << 32, 1<<32 - 1000, 0, 0, 0, 0, 0, 0, 0, 2, 1 << 31, 500, 0, 0, 0, 0, 0, 0, 0} {
		seed = binary.LittleEndian.AppendUint64(seed, v)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := New(Config{MaxGapNS: 3 * sec})
		var prev, booked Values
		for len(data) >= sampleBytes {
			var s Sample
			s.MonoNS = int64(binary.LittleEndian.Uint64(data))
			flags := binary.LittleEndian.Uint64(data[8:])
			s.BootID = string(rune('a' + flags%3))
			s.Ifindex = int64(flags >> 8 % 3)
			s.SpeedMbps = int64(flags>>16%4) * 100
			for i := range N {
				s.Values[i] = binary.LittleEndian.Uint64(data[16+8*i:])
			}
			data = data[sampleBytes:]
			r := tr.Update(s)
			for i := range N {
				if r.Total[i] < prev[i] {
					t.Fatalf("Update(%+v) = %+v: total %v decreased from %d", s, r, Counter(i), prev[i])
				}
				sum, c := bits.Add64(booked[i], r.Delta[i], 0)
				if c != 0 {
					sum = math.MaxUint64
				}
				booked[i] = sum
			}
			if booked != r.Total {
				t.Fatalf("Update(%+v) = %+v: sum of deltas %v", s, r, booked)
			}
			if r.Rate != (r.Status == OK) || (r.Rate && r.DtNS <= 0) {
				t.Fatalf("Update(%+v) = %+v: Rate with status %v", s, r, r.Status)
			}
			prev = r.Total
		}
	})
}

const sampleBytes = 16 + 8*N
