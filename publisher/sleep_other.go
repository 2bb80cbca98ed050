//go:build !linux

package publisher

import "time"

// sleepPrecise: elsewhere (the agent runs on Linux; this keeps the
// package building for tests on other systems) a Go timer's sleep.
func sleepPrecise(d time.Duration) { time.Sleep(d) }
