// Package netdatatest runs a throw-away Netdata daemon on 127.0.0.1 for
// tests: one temporary directory holds its configuration, logs, database and
// a plugins.d directory with only the plugins a test supplies, so an external
// plugin (the bridge as ifstat.plugin) can be tested end to end against the
// real parser, clock model and HTTP API.
//
// It starts, queries and stops the daemon and nothing else: it does not build
// plugins, start brokers or judge numbers; tests bring the plugin and decide
// what the points must be. See README.md for what Netdata 1.37 does with
// BEGIN microseconds and how many warm-up points to skip.
package netdatatest
