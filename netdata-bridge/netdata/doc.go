// Package netdata is the bridge's Netdata output: it turns the NodeSamples
// of the bridge's sampler into charts of Netdata's external-plugin protocol
// on stdout (Output: rates, totals, tariffs, refresh clocks, the agent's
// own chart) and answers Netdata's FUNCTION calls with a table of the
// routers (FunctionOutput). Its writer, package plugind, knows the
// protocol's keywords; this package knows which charts the contract
// promises (the README and docs/install.md). Start with NewOutput.
package netdata
