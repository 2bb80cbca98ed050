//go:build race

package proctest

// Race is whether the race detector is built in.
const Race = true
