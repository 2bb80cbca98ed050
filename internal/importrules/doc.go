// Package importrules holds no code: its test enforces the import rules
// that keep the architecture of docs/architecture.md true as the code
// changes. The agent stays small and free of bridge code, the pure
// packages stay free of the network and configuration, and the bridge core
// knows its outputs only through its Output interface.
package importrules
