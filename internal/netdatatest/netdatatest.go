package netdatatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options describe one throw-away daemon. The zero value starts a Netdata
// with no plugins at all.
type Options struct {
	// Plugins maps a file name ("test.plugin") to the executable content
	// written, mode 0755, into the private plugins.d directory.
	Plugins map[string][]byte
	// PluginFiles maps a file name ("ifstat.plugin") to the path of an
	// existing executable, e.g. a Go binary built by the test; it is copied,
	// so the daemon's user can run it wherever the original lives.
	PluginFiles map[string]string
	// PluginCommandOptions maps a plugin name without ".plugin" to the
	// "command options" of its [plugin:NAME] section: arguments appended
	// after update-every, split by the shell.
	PluginCommandOptions map[string]string
	// Helpers maps a file name without ".plugin" ("ifstat-bridge") to the
	// path of an executable copied, mode 0755, next to the plugins, which
	// Netdata does not run itself: for a plugin that is a wrapper script
	// exec'ing "$(dirname "$0")/NAME".
	Helpers map[string]string
	// UserConfig maps a path relative to Netdata's user config directory
	// (NETDATA_USER_CONFIG_DIR, e.g. "ifstat.conf") to its content, written
	// mode 0640.
	UserConfig map[string][]byte
	// UpdateEvery is [db] update every and every plugin's update every, in
	// seconds. If zero, 1.
	UpdateEvery int
	// Env is extra KEY=VALUE environment for the daemon; plugins inherit
	// it. The daemon otherwise gets only PATH and DO_NOT_TRACK=1, so nothing
	// from the developer's shell (IFSTAT_*) leaks into a plugin.
	Env []string
	// Hostname is [global] hostname: the name the API reports and, for a
	// child that streams, the name its host has on the parent. If empty,
	// "netdatatest".
	Hostname string
	// Binary is the netdata executable. If empty, "netdata" on PATH, then
	// /usr/sbin/netdata.
	Binary string
	// ProcNetDev, if not nil, runs Netdata's own network collector
	// (proc.plugin's /proc/net/dev module, charts net.IFACE) on a file in
	// the daemon's directory that starts with this content, instead of
	// the machine's /proc/net/dev: a peer to compare a plugin with.
	// Rewrite it in place (Netdata.ProcNetDev; netdevtest.Driver.Mirror),
	// never by renaming another file over it: Netdata keeps the file it
	// opened. It exists before the daemon starts, or the module turns
	// itself off.
	ProcNetDev []byte
}

// readyTimeout guards the wait for /api/v1/info; the daemon is usually up
// in under a second, so only a broken start reaches it.
const readyTimeout = 30 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// Netdata is one running daemon. Its methods are safe for concurrent use.
type Netdata struct {
	dir     layout
	port    int
	version string
	pgid    int
	started time.Time // when the daemon was executed
	client  *http.Client

	exited   chan struct{} // closed when the daemon has been reaped
	waitErr  error         // set before exited is closed
	stopOnce sync.Once

	procNetDev bool // Options.ProcNetDev was given
}

// Start writes the configuration and plugins into a fresh directory, starts
// netdata in its own process group and waits until its API answers. It
// registers cleanup that logs the error-log tail if the test failed, stops
// the daemon and removes the directory. Without a netdata binary the test is
// skipped, or fails when CI=true.
func Start(t testing.TB, o Options) *Netdata {
	t.Helper()
	bin, err := findBinary(o.Binary)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("netdatatest: %v (CI=true: a missing netdata is a failure)", err)
		}
		t.Skipf("netdatatest: %v", err)
	}
	root, err := os.MkdirTemp("", "netdatatest-")
	if err != nil {
		t.Fatalf("netdatatest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })

	n, err := start(bin, layout{Root: root}, o)
	if err != nil {
		t.Fatalf("netdatatest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("netdatatest: tail of %s:\n%s", n.dir.errorLog(), tail(n.ErrorLog(), 60))
		}
		n.Stop()
	})
	return n
}

// systemInfo is the system-info.sh written next to the plugins: one
// NAME=VALUE a line, as Netdata reads it.
const systemInfo = `#!/bin/sh
echo NETDATA_HOST_OS_NAME=netdatatest
echo NETDATA_HOST_OS_ID=netdatatest
echo NETDATA_HOST_OS_ID_LIKE=netdatatest
echo NETDATA_HOST_OS_VERSION=1
echo NETDATA_HOST_OS_VERSION_ID=1
echo NETDATA_HOST_OS_DETECTION=netdatatest
echo NETDATA_SYSTEM_KERNEL_NAME=Linux
echo NETDATA_SYSTEM_KERNEL_VERSION=0
`

// startAttempts bounds the retries when another process takes the free port
// between our probe and the daemon's bind.
const startAttempts = 3

func start(bin string, dir layout, o Options) (*Netdata, error) {
	if o.UpdateEvery == 0 {
		o.UpdateEvery = 1
	}
	if o.UpdateEvery < 0 {
		return nil, fmt.Errorf("update every %d: must be positive", o.UpdateEvery)
	}
	owner, err := daemonUser()
	if err != nil {
		return nil, err
	}
	names, err := prepare(dir, o)
	if err != nil {
		return nil, err
	}
	var procNetDev string
	if o.ProcNetDev != nil {
		procNetDev = dir.procNetDev()
		if err := os.WriteFile(procNetDev, o.ProcNetDev, 0o644); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		conf, err := renderConfig(configInput{
			Layout: dir, User: owner.name, Port: port, UpdateEvery: o.UpdateEvery,
			Plugins: names, CommandOpts: o.PluginCommandOptions, Hostname: o.Hostname,
			ProcNetDev: procNetDev,
		})
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(dir.conf(), conf, 0o644); err != nil {
			return nil, err
		}
		_ = os.Remove(dir.errorLog())
		if err := owner.chownTree(dir.Root); err != nil {
			return nil, err
		}
		n, err := launch(bin, dir, port, o.Env)
		if err == nil {
			n.procNetDev = procNetDev != ""
			return n, nil
		}
		lastErr = err
		if !strings.Contains(readFile(dir.errorLog()), "Address already in use") {
			break
		}
	}
	return nil, lastErr
}

// prepare creates the directory tree and writes plugins and user config.
// It returns the plugin names.
func prepare(dir layout, o Options) ([]string, error) {
	if err := os.Chmod(dir.Root, 0o755); err != nil {
		return nil, err
	}
	for _, d := range dir.dirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Anonymous statistics: the opt-out file is the documented switch;
	// DO_NOT_TRACK=1 is set in the environment as well.
	if err := os.WriteFile(filepath.Join(dir.userConfig(), ".opt-out-from-anonymous-statistics"), nil, 0o644); err != nil {
		return nil, err
	}
	cloud := "[global]\n\tenabled = no\n"
	if err := os.WriteFile(filepath.Join(dir.userConfig(), "cloud.d", "cloud.conf"), []byte(cloud), 0o644); err != nil {
		return nil, err
	}
	// Netdata runs system-info.sh from its plugins directory for the OS
	// and kernel of its host. Without one those stay unset, and a 1.37
	// child that streams aborts ("munmap_chunk(): invalid pointer") when
	// it first connects: it frees the "" it put in place of each unset
	// field. Fixed values also keep the machine out of the API.
	if err := os.WriteFile(filepath.Join(dir.plugins(), "system-info.sh"), []byte(systemInfo), 0o755); err != nil {
		return nil, err
	}
	var names []string
	add := func(file string, content []byte) error {
		name, err := pluginName(file)
		if err != nil {
			return err
		}
		for _, n := range names {
			if n == name {
				return fmt.Errorf("plugin %q given twice", file)
			}
		}
		names = append(names, name)
		// WriteFile keeps the mode of an existing file, so chmod too.
		p := filepath.Join(dir.plugins(), file)
		if err := os.WriteFile(p, content, 0o755); err != nil {
			return err
		}
		return os.Chmod(p, 0o755)
	}
	for file, content := range o.Plugins {
		if err := add(file, content); err != nil {
			return nil, err
		}
	}
	for file, src := range o.PluginFiles {
		content, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", file, err)
		}
		if err := add(file, content); err != nil {
			return nil, err
		}
	}
	for file, src := range o.Helpers {
		if file == "" || strings.HasSuffix(file, ".plugin") || filepath.Base(file) != file || strings.ContainsAny(file, " '\"[]") {
			return nil, fmt.Errorf("helper file name %q: want a plain file name not ending in .plugin", file)
		}
		content, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("helper %s: %w", file, err)
		}
		p := filepath.Join(dir.plugins(), file)
		if err := os.WriteFile(p, content, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return nil, err
		}
	}
	for rel, content := range o.UserConfig {
		if !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("user config %q: want a path inside the config directory", rel)
		}
		p := filepath.Join(dir.userConfig(), rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, content, 0o640); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// launch starts the daemon and waits for its API.
func launch(bin string, dir layout, port int, extraEnv []string) (*Netdata, error) {
	out, err := os.Create(dir.daemonOut())
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child holds its own copy
	cmd := exec.Command(bin, "-D", "-c", dir.conf(), "-P", dir.pidFile())
	cmd.Dir = dir.Root
	cmd.Env = append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"DO_NOT_TRACK=1",
	}, extraEnv...)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so Stop reaches plugins and the spawn server
	// without naming any process but ours.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	n := &Netdata{
		dir:     dir,
		port:    port,
		pgid:    cmd.Process.Pid,
		started: time.Now(),
		client:  &http.Client{Timeout: 10 * time.Second},
		exited:  make(chan struct{}),
	}
	go func() {
		n.waitErr = cmd.Wait()
		close(n.exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := n.waitReady(ctx); err != nil {
		n.Stop()
		return nil, fmt.Errorf("%w\n%s", err, tail(n.ErrorLog()+readFile(dir.daemonOut()), 30))
	}
	return n, nil
}

func (n *Netdata) waitReady(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var info struct {
			Version string `json:"version"`
		}
		err := n.getJSON(ctx, "/api/v1/info", &info)
		if err == nil {
			n.version = info.Version
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("netdata exited before its API answered: %v", n.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s/api/v1/info: %w (last: %v)", n.URL(), ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// URL returns the base URL of the API, http://127.0.0.1:PORT.
func (n *Netdata) URL() string { return "http://127.0.0.1:" + strconv.Itoa(n.port) }

// Version returns the daemon's version as /api/v1/info reports it, e.g.
// "v1.37.1".
func (n *Netdata) Version() string { return n.version }

// ProcNetDev is the file Netdata's proc.plugin reads as /proc/net/dev
// (Options.ProcNetDev), "" without one.
func (n *Netdata) ProcNetDev() string {
	if !n.procNetDev {
		return ""
	}
	return n.dir.procNetDev()
}

// ErrorLog returns Netdata's error log, where plugin stderr lands on 1.37.
// A log that cannot be read yields a one-line explanation instead.
func (n *Netdata) ErrorLog() string { return readFile(n.dir.errorLog()) }

// KillDaemon sends SIGKILL to the daemon process alone and waits until it
// has been reaped; its plugins keep running with the reading end of their
// stdout gone, as after a crash of Netdata. Stop (or cleanup) still ends
// the rest of the process group.
func (n *Netdata) KillDaemon() {
	_ = syscall.Kill(n.pgid, syscall.SIGKILL)
	<-n.exited
}

// Stop sends SIGTERM to the daemon's process group and SIGKILL after 10 s
// if it has not exited. It is idempotent and safe to call from cleanup.
func (n *Netdata) Stop() {
	n.stopOnce.Do(func() {
		_ = syscall.Kill(-n.pgid, syscall.SIGTERM)
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case <-n.exited:
		case <-t.C:
			_ = syscall.Kill(-n.pgid, syscall.SIGKILL)
			<-n.exited
		}
		// A plugin that ignored SIGTERM, or a shell plugin's sleep, may
		// still be in the group; the group id stays ours while it has
		// members, and ESRCH means it is empty.
		_ = syscall.Kill(-n.pgid, syscall.SIGKILL)
	})
}

// getJSON fetches path from the API and decodes it into v.
func (n *Netdata) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL()+path, nil)
	if err != nil {
		return err
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

func findBinary(bin string) (string, error) {
	if bin != "" {
		return exec.LookPath(bin)
	}
	if p, err := exec.LookPath("netdata"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/netdata"); err != nil {
		return "", fmt.Errorf("netdata not found on PATH nor at /usr/sbin/netdata: %w", err)
	}
	return "/usr/sbin/netdata", nil
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process
// may take it before netdata binds it; start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// owner is the account the daemon runs as ([global] run as user).
type owner struct {
	name     string
	uid, gid int
	chown    bool
}

// daemonUser chooses the account. As root we keep Netdata's production
// behaviour: it drops to "netdata", so plugins run unprivileged and a file a
// plugin cannot read in production cannot be read here either; the tree is
// chowned to that user. Without a netdata account, root stays root. As any
// other user, netdata cannot switch users and runs as us.
func daemonUser() (owner, error) {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("netdata")
		if err != nil {
			return owner{name: "root"}, nil
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err := errors.Join(err1, err2); err != nil {
			return owner{}, fmt.Errorf("user netdata: %w", err)
		}
		return owner{name: "netdata", uid: uid, gid: gid, chown: true}, nil
	}
	u, err := user.Current()
	if err != nil {
		return owner{}, fmt.Errorf("current user: %w", err)
	}
	return owner{name: u.Username}, nil
}

func (o owner) chownTree(root string) error {
	if !o.chown {
		return nil
	}
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, o.uid, o.gid)
	})
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)\n", p, err)
	}
	return string(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// infoMark is how Netdata 1.37 marks the level of its own INFO lines in
// error.log ("2026-12-07 12:28:10: netdata INFO  : THREAD : ...").
const infoMark = ": netdata INFO  : "

// problems returns the last n lines of a Netdata error log that are not
// Netdata's own INFO lines: its errors and what plugins wrote to stderr.
// A wait that fails quotes these rather than the log's plain tail: the
// threads Netdata starts log dozens of INFO lines after a plugin's error,
// and a loaded machine let them push the bad SET that
// TestWaitChartReportsLog looks for out of the last 30 lines.
func problems(log string, n int) string {
	var keep []string
	for _, l := range strings.SplitAfter(strings.TrimRight(log, "\n"), "\n") {
		if l != "" && !strings.Contains(l, infoMark) {
			keep = append(keep, l)
		}
	}
	return tail(strings.Join(keep, ""), n)
}
