// Package docs holds no code: its tests keep the documentation honest. The
// configuration reference in the README is generated from the config
// structs (go test ./docs -run TestConfigReference -update rewrites it),
// and the demo capture shown in the README is taken from a real run of
// "ifstat-bridge demo" under tmux.
//
// What the pages say about the protocol lives in protocol.md and is owned by
// internal/wire; what the programs do is owned by their packages.
package docs
