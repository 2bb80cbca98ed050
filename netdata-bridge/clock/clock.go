// Package clock is the bridge's request clock: ticks aligned to wall-clock
// multiples of the interval (so every bridge and every chart agrees where a
// second begins), with a tick that comes late skipped rather than queued.
//
// It uses package time only, so tests run it on synctest's fake clock.
package clock

import (
	"context"
	"time"
)

// Next returns the first multiple of d (counted from the Unix epoch) that is
// strictly after now.
func Next(now time.Time, d time.Duration) time.Time {
	ns := now.UnixNano()
	n := ns - ns%int64(d) + int64(d)
	if ns < 0 && ns%int64(d) != 0 {
		n -= int64(d)
	}
	return time.Unix(0, n).In(now.Location())
}

// Tick is one tick of a Ticker.
type Tick struct {
	// At is the aligned instant the tick stands for.
	At time.Time
	// Skipped counts ticks dropped since the previous one because the
	// receiver or the scheduler was late.
	Skipped int
}

// Ticker delivers aligned ticks on C until its context ends.
type Ticker struct {
	C <-chan Tick
}

// Start starts a ticker of interval d, aligned to multiples of d. A tick is
// delivered only if it can be handed over within lateness of its instant;
// otherwise it is skipped and counted. lateness <= 0 means d/2.
func Start(ctx context.Context, d, lateness time.Duration) *Ticker {
	if lateness <= 0 {
		lateness = d / 2
	}
	c := make(chan Tick)
	go run(ctx, d, lateness, c)
	return &Ticker{C: c}
}

func run(ctx context.Context, d, lateness time.Duration, c chan<- Tick) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	skipped := 0
	next := Next(time.Now(), d)
	for {
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		deadline := time.NewTimer(lateness - time.Since(next))
		select {
		case <-ctx.Done():
			deadline.Stop()
			return
		case c <- Tick{At: next, Skipped: skipped}:
			skipped = 0
		case <-deadline.C:
			skipped++
		}
		deadline.Stop()
		// Whatever happened, the next tick is the next aligned instant
		// after now: ticks missed while we were late are skipped, not queued.
		now := time.Now()
		n := Next(now, d)
		if gap := int(n.Sub(next)/d) - 1; gap > 0 {
			skipped += gap
		}
		next = n
	}
}
