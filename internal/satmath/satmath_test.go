package satmath

import (
	"math"
	"testing"
)

func TestSaturating(t *testing.T) {
	t.Parallel()
	const maxU, maxI = uint64(math.MaxUint64), int64(math.MaxInt64)
	for _, tt := range []struct {
		name      string
		got, want uint64
	}{
		{"Add 0", Add(0, 0), 0},
		{"Add", Add(2, 3), 5},
		{"Add to max", Add(maxU-1, 1), maxU},
		{"Add over by 1", Add(maxU, 1), maxU},
		{"Add max max", Add(maxU, maxU), maxU},
		{"Mul 0", Mul(0, maxU), 0},
		{"Mul", Mul(1<<32, 1<<31), 1 << 63},
		{"Mul to max", Mul(maxU, 1), maxU},
		{"Mul over", Mul(1<<32, 1<<32), maxU},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	for _, tt := range []struct {
		name      string
		got, want int64
	}{
		{"Int64 0", Int64(0), 0},
		{"Int64 max", Int64(uint64(maxI)), maxI},
		{"Int64 max+1", Int64(uint64(maxI) + 1), maxI},
		{"Int64 MaxUint64", Int64(maxU), maxI},
		{"AddInt64", AddInt64(2, 3), 5},
		{"AddInt64 to max", AddInt64(maxI-1, 1), maxI},
		{"AddInt64 over by 1", AddInt64(maxI, 1), maxI},
		{"AddInt64 max max", AddInt64(maxI, maxI), maxI},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}
