// Package plugind writes Netdata's external-plugin protocol (plugins.d): one
// method per keyword, every text field single-quoted and cleaned so that no
// value can break or extend a line, ids sanitised, integers in plain base 10.
//
// A [Writer] buffers one tick in memory; [Writer.Flush] hands it to the output
// in a single Write and reports short writes, so a tick reaches Netdata whole
// or the caller learns it did not. A Writer knows which keywords the running
// Netdata understands ([Features], from [ParseFeatures] of NETDATA_VERSION)
// and refuses the newer ones with [ErrUnsupported] instead of emitting a line
// that would get the plugin killed.
//
// The package is pure: no clock, no network, no goroutines. It does not decide
// which charts exist, what the values mean or when a tick happens (the bridge
// does), it does not remember which charts and dimensions were defined (a
// BEGIN or SET of an undefined one disables the plugin: the caller must emit
// CHART and DIMENSION first), and it does not lock: one goroutine owns a
// Writer, and the io.Writer given to Flush serialises output if it is shared.
package plugind
