//go:build pprof

package main

// Built with -tags pprof (never in a release), the bridge serves
// net/http/pprof on the loopback address in IFSTAT_PPROF, so that
// scripts/bench-bridge.sh (PPROF=1) can take heap and CPU profiles of a
// bridge under load.

import (
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("IFSTAT_PPROF")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		os.Stderr.WriteString("IFSTAT_PPROF: need a loopback host:port\n")
		os.Exit(2)
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
