package netdatatest

import (
	"bytes"
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// stockPlugins are the plugins a Debian or static Netdata ships, internal
// threads and external programs alike. All are switched off by name as well
// as by "enable running new plugins = no" and a private plugins directory,
// so a test never depends on what the machine has installed.
var stockPlugins = []string{
	"apps", "cgroups", "charts.d", "checks", "cups", "debugfs", "diskspace",
	"ebpf", "fping", "freeipmi", "go.d", "idlejitter", "ioping",
	"logs-management", "netdata monitoring", "network-viewer", "nfacct",
	"node.d", "perf", "proc", "python.d", "slabinfo", "statsd",
	"systemd-journal", "tc", "timex", "xenstat",
}

// layout is where everything of one daemon lives, all under Root.
type layout struct {
	Root string
}

func (l layout) path(parts ...string) string {
	return filepath.Join(append([]string{l.Root}, parts...)...)
}

func (l layout) conf() string       { return l.path("netdata.conf") }
func (l layout) pidFile() string    { return l.path("netdata.pid") }
func (l layout) userConfig() string { return l.path("etc") }
func (l layout) plugins() string    { return l.path("plugins.d") }
func (l layout) logDir() string     { return l.path("log") }
func (l layout) errorLog() string   { return l.path("log", "error.log") }
func (l layout) daemonOut() string  { return l.path("log", "daemon.out") }
func (l layout) procNetDev() string { return l.path("proc-net-dev") }

// dirs are created before the daemon starts; Netdata does not create them.
func (l layout) dirs() []string {
	return []string{
		l.userConfig(), l.path("etc", "cloud.d"), l.path("stock"), l.plugins(),
		l.logDir(), l.path("cache"), l.path("lib"), l.path("lock"),
		l.path("home"), l.path("web"),
	}
}

// configInput is everything netdata.conf depends on.
type configInput struct {
	Layout      layout
	User        string // [global] run as user
	Port        int
	UpdateEvery int
	Plugins     []string          // plugin names without ".plugin"
	CommandOpts map[string]string // plugin name -> command options
	Hostname    string            // [global] hostname; "" is "netdatatest"
	// ProcNetDev, if set, runs Netdata's own proc.plugin on this file in
	// place of /proc/net/dev, its other modules off (Options.ProcNetDev).
	ProcNetDev string
}

// procModules are the modules of Netdata 1.37's internal proc.plugin
// other than /proc/net/dev ([plugin:proc] keys). With ProcNetDev they are
// switched off, so that the daemon charts only the file it is given, not
// this machine.
var procModules = []string{
	"/proc/stat", "/proc/uptime", "/proc/loadavg",
	"/proc/sys/kernel/random/entropy_avail", "/proc/pressure",
	"/proc/interrupts", "/proc/softirqs", "/proc/vmstat", "/proc/meminfo",
	"/sys/kernel/mm/ksm", "/sys/block/zram", "/sys/devices/system/edac/mc",
	"/sys/devices/system/node", "/proc/net/wireless", "/proc/net/sockstat",
	"/proc/net/sockstat6", "/proc/net/netstat", "/proc/net/snmp",
	"/proc/net/snmp6", "/proc/net/sctp/snmp", "/proc/net/softnet_stat",
	"/proc/net/ip_vs/stats", "/sys/class/infiniband",
	"/proc/net/stat/conntrack", "/proc/net/stat/synproxy", "/proc/diskstats",
	"/proc/mdstat", "/proc/net/rpc/nfsd", "/proc/net/rpc/nfs",
	"/proc/spl/kstat/zfs/arcstats", "/sys/fs/btrfs", "ipc",
	"/sys/class/power_supply",
}

// renderConfig writes netdata.conf in the key names of Netdata 1.37. Keys a
// version does not know are kept and ignored by it, so the same file is used
// for newer daemons.
func renderConfig(in configInput) ([]byte, error) {
	l := in.Layout
	host := cmp.Or(in.Hostname, "netdatatest")
	for _, v := range []string{l.Root, in.User, host, in.ProcNetDev} {
		if err := checkValue(v); err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, " \"'") {
			return nil, fmt.Errorf("value %q: spaces and quotes are not allowed", v)
		}
	}
	var b bytes.Buffer
	section := func(name string) { fmt.Fprintf(&b, "[%s]\n", name) }
	key := func(k string, v any) { fmt.Fprintf(&b, "\t%s = %v\n", k, v) }

	section("global")
	key("run as user", in.User)
	key("hostname", host)
	key("OOM score", "keep")
	key("process scheduling policy", "keep")
	section("directories")
	key("config", l.userConfig())
	key("stock config", l.path("stock"))
	key("log", l.logDir())
	key("cache", l.path("cache"))
	key("lib", l.path("lib"))
	key("lock", l.path("lock"))
	key("home", l.path("home"))
	key("web", l.path("web"))
	// Quoted: the key is a space-separated list of directories.
	key("plugins", `"`+l.plugins()+`"`)
	section("logs")
	key("error", l.errorLog())
	key("access", "none")
	key("debug", "none")
	key("collector", l.errorLog()) // 2.x name of the plugin stderr log
	key("daemon", l.errorLog())    // 2.x name of the daemon log
	section("db")
	key("mode", "ram")
	key("update every", in.UpdateEvery)
	section("web")
	key("bind to", fmt.Sprintf("127.0.0.1:%d", in.Port))
	section("registry")
	key("enabled", "no")
	key("registry to announce", fmt.Sprintf("http://127.0.0.1:%d", in.Port))
	section("health")
	key("enabled", "no")
	section("ml")
	key("enabled", "no")
	section("plugins")
	key("enable running new plugins", "no")
	key("check for new plugins every", 60)
	for _, p := range stockPlugins {
		if p == "proc" && in.ProcNetDev != "" {
			key(p, "yes")
			continue
		}
		if !slices.Contains(in.Plugins, p) {
			key(p, "no")
		}
	}
	names := slices.Clone(in.Plugins)
	slices.Sort(names)
	for _, p := range names {
		key(p, "yes")
	}
	for _, p := range names {
		section("plugin:" + p)
		key("update every", in.UpdateEvery)
		if opts, ok := in.CommandOpts[p]; ok {
			if err := checkValue(opts); err != nil {
				return nil, fmt.Errorf("command options of %s: %w", p, err)
			}
			key("command options", opts)
		}
	}
	if in.ProcNetDev != "" {
		section("plugin:proc")
		key("/proc/net/dev", "yes")
		for _, m := range procModules {
			key(m, "no")
		}
		section("plugin:proc:/proc/net/dev")
		key("filename to monitor", in.ProcNetDev)
	}
	for p := range in.CommandOpts {
		if !slices.Contains(names, p) {
			return nil, fmt.Errorf("command options for %q, which is not among the plugins", p)
		}
	}
	return b.Bytes(), nil
}

// checkValue rejects what would end a config line early.
func checkValue(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("value %q: line breaks and NUL are not allowed", v)
	}
	return nil
}

// pluginName returns NAME for a file "NAME.plugin", the form Netdata 1.37
// recognises in a plugins directory.
func pluginName(file string) (string, error) {
	name, ok := strings.CutSuffix(file, ".plugin")
	if !ok || name == "" || file != filepath.Base(file) || strings.ContainsAny(name, " \t\r\n\x00[]=\"'") {
		return "", fmt.Errorf("plugin file name %q: want NAME.plugin without directories, spaces, quotes or brackets", file)
	}
	return name, nil
}
