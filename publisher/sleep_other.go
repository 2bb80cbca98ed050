//go:build !linux

package publisher

import "time"

// preciseSleeper: elsewhere (the agent runs on Linux; this keeps the
// package building for tests on other systems) a Go timer's sleep.
type preciseSleeper struct{}

func newPreciseSleeper() preciseSleeper { return preciseSleeper{} }

func (preciseSleeper) sleep(d time.Duration) { time.Sleep(d) }
