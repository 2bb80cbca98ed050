//go:build !linux

package publisher

import "time"

// sleepPrecise sleeps d on a Go timer where clock_nanosleep is not at
// hand: the agent runs on Linux; this lets the package build elsewhere.
func sleepPrecise(d time.Duration) { time.Sleep(d) }
