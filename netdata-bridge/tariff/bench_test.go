package tariff

import (
	"testing"
	"time"
)

func BenchmarkSplit(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	s := mustParse(b, "peak=Mon-Fri 08:00-20:00;happy=00:00-07:00;normal=*", loc)
	within := time.Date(2025, 6, 2, 10, 0, 0, 0, loc)
	across := time.Date(2025, 6, 2, 7, 59, 59, 500_000_000, loc)
	for _, bc := range []struct {
		name string
		t0   time.Time
	}{{"within", within}, {"across", across}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]Part, 0, 4)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendSplit(buf[:0], 123_456_789, bc.t0, bc.t0.Add(time.Second), s)
			}
		})
	}
}

func BenchmarkAt(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	s := mustParse(b, "peak=Mon-Fri 08:00-20:00;happy=00:00-07:00;normal=*", loc)
	t := time.Date(2025, 6, 2, 10, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.At(t)
	}
}

func BenchmarkAccumulatorAdd(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	s := mustParse(b, "peak=Mon-Fri 08:00-20:00;happy=00:00-07:00;normal=*", loc)
	a, _ := NewAccumulator(s, 1, nil)
	t := time.Date(2025, 6, 2, 10, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		a.Add(t, t.Add(time.Second), 1000, 100)
		t = t.Add(time.Second)
	}
}
