// Package proctest is test plumbing for tests that run our binaries as
// processes: it builds commands once per test binary (Build, Binaries,
// Main), starts a process with an exact environment and kills and reaps it
// by its PID when the test ends (Start, Proc), keeps its output in a
// mutex-guarded buffer (LockedBuffer), and serves a file through a named
// pipe whose content is rendered at the moment of each read (ServePipe).
//
// Binaries go to one directory per test binary that every user may enter
// (mode 0755), so a test can run them as nobody; a package that builds
// calls Main from its TestMain, which removes that directory after the
// tests.
//
// The package knows nothing of MQTT brokers (see internal/brokertest),
// counter trees (see internal/netdev/netdevtest) or what the processes
// print; callers judge the output.
package proctest
