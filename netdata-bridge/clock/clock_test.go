package clock

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestNext(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		now  time.Time
		d    time.Duration
		want time.Time
	}{
		{base, time.Second, base.Add(time.Second)},
		{base.Add(1), time.Second, base.Add(time.Second)},
		{base.Add(999 * time.Millisecond), time.Second, base.Add(time.Second)},
		{base.Add(250 * time.Millisecond), 100 * time.Millisecond, base.Add(300 * time.Millisecond)},
		{base.Add(7 * time.Second), 10 * time.Second, base.Add(10 * time.Second)},
		{base.Add(61 * time.Second), time.Minute, base.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		if got := Next(tt.now, tt.d); !got.Equal(tt.want) {
			t.Errorf("Next(%v, %v) = %v, want %v", tt.now, tt.d, got, tt.want)
		}
	}
}

func TestTickerAligned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		time.Sleep(333 * time.Millisecond) // start off the grid
		tk := Start(ctx, 200*time.Millisecond, 0)
		var got []time.Duration
		for range 5 {
			tick := <-tk.C
			if tick.Skipped != 0 {
				t.Errorf("tick %v skipped %d", tick.At, tick.Skipped)
			}
			if tick.At.UnixNano()%int64(200*time.Millisecond) != 0 {
				t.Errorf("tick %v not aligned to 200ms", tick.At)
			}
			got = append(got, time.Duration(tick.At.UnixNano()%int64(time.Second)))
		}
		want := []time.Duration{400, 600, 800, 0, 200}
		for i := range want {
			if got[i] != want[i]*time.Millisecond {
				t.Fatalf("tick phases = %v, want %v ms", got, want)
			}
		}
	})
}

func TestTickerSkipsLateTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tk := Start(t.Context(), time.Second, 0)
		first := <-tk.C
		// The receiver is busy for 3.7 s: ticks at +1, +2, +3 s cannot be
		// delivered within half an interval and must not pile up.
		time.Sleep(3700 * time.Millisecond)
		next := <-tk.C
		if want := first.At.Add(4 * time.Second); !next.At.Equal(want) {
			t.Errorf("after a 3.7 s stall got tick %v, want %v", next.At, want)
		}
		if next.Skipped != 3 {
			t.Errorf("Skipped = %d, want 3", next.Skipped)
		}
	})
}

func TestTickerStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		tk := Start(ctx, time.Second, 0)
		<-tk.C
		cancel()
		synctest.Wait() // the goroutine must have exited: synctest fails on leaks
		select {
		case tick := <-tk.C:
			t.Errorf("tick %v after cancel", tick.At)
		default:
		}
	})
}
