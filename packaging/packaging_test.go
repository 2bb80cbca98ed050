package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
)

var shellScripts = []string{
	"edgeos/install.sh",
	"edgeos/ifstat-agent.sh",
	"openwrt/install.sh",
	"openwrt/ifstat-agent.init",
	"netdata/install-plugin.sh",
}

// TestShellSyntax parses every script with sh -n (dash on Debian, close to
// the busybox ash of OpenWrt and the dash of EdgeOS).
func TestShellSyntax(t *testing.T) {
	t.Parallel()
	for _, s := range shellScripts {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
				t.Errorf("sh -n %s: %v\n%s", s, err, out)
			}
			st, err := os.Stat(s)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm()&0o111 != 0o111 {
				t.Errorf("%s: mode %v, want executable", s, st.Mode().Perm())
			}
		})
	}
}

// TestEnvFiles checks that the shipped settings files are what the
// programs' -config parser and ifstat.conf reader accept, and that they set
// only variables the README documents.
func TestEnvFiles(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want map[string]string
	}{
		{"systemd/agent.env", map[string]string{"IFSTAT_BROKER": "tcp://192.168.1.10:1883"}},
		{"systemd/bridge.env", map[string]string{"IFSTAT_BROKER": "tcp://127.0.0.1:1883"}},
		{"edgeos/agent.env", map[string]string{"IFSTAT_BROKER": "tcp://192.168.1.10:1883", "IFSTAT_INTERFACES": "eth*,switch0*,pppoe*,wg*"}},
		{"netdata/ifstat.conf", map[string]string{"IFSTAT_BROKER": "tcp://127.0.0.1:1883"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := config.ReadFile(tt.file)
			if err != nil {
				t.Fatalf("config.ReadFile(%s): %v", tt.file, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config.ReadFile(%s) (-want +got):\n%s", tt.file, diff)
			}
			// Commented examples must name real variables too.
			raw, _ := os.ReadFile(tt.file)
			for line := range strings.Lines(string(raw)) {
				k, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "#"), "=")
				if ok && strings.HasPrefix(k, "IFSTAT_") && !strings.Contains(string(readme), "`"+k+"`") {
					t.Errorf("%s: %s is not in the README's configuration tables", tt.file, k)
				}
			}
		})
	}
}

// TestSystemdUnits runs systemd-analyze verify on each unit, with ExecStart
// pointed at an existing executable (verify insists on one), and requires
// silence: verify exits 0 on unknown keys and only prints a warning.
func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		// Part of systemd; .ci/run does not install it, so not required.
		t.Skip("systemd-analyze not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hardening := []string{
		"DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
	}
	tests := []struct {
		unit     string
		bin      string
		required []string
	}{
		{"ifstat-agent.service", "/usr/local/bin/ifstat-agent", append(hardening, "EnvironmentFile=-/etc/ifstat/agent.env")},
		{"ifstat-bridge.service", "/usr/local/bin/ifstat-bridge", append(hardening, "EnvironmentFile=-/etc/ifstat/bridge.env", "StateDirectory=ifstat")},
	}
	for _, tt := range tests {
		t.Run(tt.unit, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("systemd", tt.unit))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.required {
				if !strings.Contains(string(raw), "\n"+r) {
					t.Errorf("%s lacks %q", tt.unit, strings.TrimSpace(r))
				}
			}
			if !strings.Contains(string(raw), "\nExecStart="+tt.bin+"\n") {
				t.Fatalf("%s: ExecStart is not %s", tt.unit, tt.bin)
			}
			p := filepath.Join(t.TempDir(), tt.unit)
			unit := strings.Replace(string(raw), "ExecStart="+tt.bin, "ExecStart="+self, 1)
			if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
				t.Fatal(err)
			}
			verify(t, analyze, p, true)
		})
	}
	// The check itself: an unknown key must not pass.
	t.Run("unknown key is caught", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(t.TempDir(), "bad.service")
		if err := os.WriteFile(p, []byte("[Service]\nExecStart="+self+"\nDynamicUsr=yes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		verify(t, analyze, p, false)
	})
}

func verify(t *testing.T, analyze, unit string, wantClean bool) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), analyze, "verify", unit).CombinedOutput()
	clean := err == nil && len(strings.TrimSpace(string(out))) == 0
	if clean != wantClean {
		t.Errorf("systemd-analyze verify %s: clean=%v, want %v (err %v)\n%s", filepath.Base(unit), clean, wantClean, err, out)
	}
}

// procdStubs replace OpenWrt's rc.common and UCI helpers with ones that
// print what the init script asks procd for; CFG_<option> variables play
// /etc/config/ifstat.
const procdStubs = `
config_load() { [ "$1" = ifstat ] || echo "config_load $1"; }
config_get() { eval "$1=\${CFG_$3-\$4}"; }
config_get_bool() { eval "$1=\${CFG_$3-\$4}"; }
procd_open_instance() { echo open; }
procd_set_param() { echo "set $*"; }
procd_append_param() { echo "append $*"; }
procd_close_instance() { echo close; }
procd_add_reload_trigger() { echo "trigger $*"; }
`

// TestOpenWrtInit runs the procd init script's start_service with stubbed
// procd and UCI functions and checks the instance it describes.
func TestOpenWrtInit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  map[string]string
		want []string
	}{
		{
			name: "options become IFSTAT_ variables",
			cfg: map[string]string{
				"user": "root", "broker": "ssl://mqtt.lan:8883", "username": "openwrt", "password": "p w",
				"topic_prefix": "home/ifstat", "interfaces": "br-lan,wg*", "max_rate": "50",
			},
			want: []string{
				"open",
				"set command /usr/bin/ifstat-agent",
				"set env IFSTAT_LOG_FORMAT=text",
				"append env IFSTAT_BROKER=ssl://mqtt.lan:8883",
				"append env IFSTAT_USERNAME=openwrt",
				"append env IFSTAT_PASSWORD=p w",
				"append env IFSTAT_TOPIC_PREFIX=home/ifstat",
				"append env IFSTAT_INTERFACES=br-lan,wg*",
				"append env IFSTAT_MAX_RATE=50",
				"set user root",
				"set respawn 3600 5 0",
				"set stdout 1",
				"set stderr 1",
				"close",
			},
		},
		{
			name: "missing user falls back to nobody",
			cfg:  map[string]string{"user": "no-such-user-ifstat"},
			want: []string{
				"open", "set command /usr/bin/ifstat-agent", "set env IFSTAT_LOG_FORMAT=text",
				"set user nobody", "set respawn 3600 5 0", "set stdout 1", "set stderr 1", "close",
			},
		},
		{
			name: "disabled",
			cfg:  map[string]string{"enabled": "0", "broker": "tcp://x:1883"},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := procdStubs + ". ./openwrt/ifstat-agent.init\nstart_service\n"
			cmd := exec.CommandContext(t.Context(), "sh", "-c", script)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range tt.cfg {
				cmd.Env = append(cmd.Env, "CFG_"+k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("start_service: %v\n%s", err, out)
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(got) == 1 && got[0] == "" {
				got = nil
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("start_service (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetdataInstall runs install-plugin.sh against scratch trees laid out
// like each kind of Netdata install.
func TestNetdataInstall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		dirs        []string
		env         []string
		wantPlugin  string
		wantConf    string
		wantFailure bool
	}{
		{name: "static /opt/netdata", dirs: []string{"opt/netdata/usr/libexec/netdata/plugins.d", "usr/lib/netdata/plugins.d"},
			wantPlugin: "opt/netdata/usr/libexec/netdata/plugins.d/ifstat.plugin", wantConf: "opt/netdata/etc/netdata/ifstat.conf"},
		{name: "debian libexec", dirs: []string{"usr/libexec/netdata/plugins.d"},
			wantPlugin: "usr/libexec/netdata/plugins.d/ifstat.plugin", wantConf: "etc/netdata/ifstat.conf"},
		{name: "debian 12 netdata 1.37", dirs: []string{"usr/lib/netdata/plugins.d"},
			wantPlugin: "usr/lib/netdata/plugins.d/ifstat.plugin", wantConf: "etc/netdata/ifstat.conf"},
		{name: "override", dirs: []string{"p", "usr/lib/netdata/plugins.d"}, env: []string{"PLUGINS_DIR=/p", "CONFIG_DIR=/c"},
			wantPlugin: "p/ifstat.plugin", wantConf: "c/ifstat.conf"},
		{name: "no netdata", wantFailure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			bin := filepath.Join(t.TempDir(), "ifstat-bridge")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\necho bridge\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), "sh", "netdata/install-plugin.sh", bin)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "ROOT=" + root}, tt.env...)
			out, err := cmd.CombinedOutput()
			if tt.wantFailure {
				if err == nil {
					t.Errorf("install-plugin.sh succeeded without a Netdata, want failure\n%s", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("install-plugin.sh: %v\n%s", err, out)
			}
			st, err := os.Stat(filepath.Join(root, tt.wantPlugin))
			if err != nil {
				t.Fatalf("plugin not installed: %v\n%s", err, out)
			}
			if st.Mode().Perm() != 0o750 {
				t.Errorf("%s: mode %v, want 0750", tt.wantPlugin, st.Mode().Perm())
			}
			conf, err := config.ReadFile(filepath.Join(root, tt.wantConf))
			if err != nil {
				t.Fatalf("%s: %v\n%s", tt.wantConf, err, out)
			}
			if conf["IFSTAT_BROKER"] == "" {
				t.Errorf("%s sets no IFSTAT_BROKER", tt.wantConf)
			}
			// A second run keeps the user's settings.
			if err := os.WriteFile(filepath.Join(root, tt.wantConf), []byte("IFSTAT_BROKER=tcp://mine:1883\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			if out, err := cmd2(t, cmd).CombinedOutput(); err != nil {
				t.Fatalf("second install-plugin.sh: %v\n%s", err, out)
			}
			if got, _ := os.ReadFile(filepath.Join(root, tt.wantConf)); string(got) != "IFSTAT_BROKER=tcp://mine:1883\n" {
				t.Errorf("second run changed %s to %q", tt.wantConf, got)
			}
			checkAlerts(t, cmd, filepath.Join(root, filepath.Dir(tt.wantConf), "health.d"))
		})
	}
}

// checkAlerts checks the alerts install-plugin.sh put into hdir (after two
// runs of cmd): the shipped file, mode 0644, no .old copy from a second run
// that found it unchanged; then a third run over an edited copy keeps the
// edit as ifstat.conf.old and installs the shipped file again.
func checkAlerts(t *testing.T, cmd *exec.Cmd, hdir string) {
	t.Helper()
	shipped, err := os.ReadFile("netdata/health.d/ifstat.conf")
	if err != nil {
		t.Fatal(err)
	}
	installed := filepath.Join(hdir, "ifstat.conf")
	got, err := os.ReadFile(installed)
	if err != nil {
		t.Fatalf("alerts not installed: %v", err)
	}
	if string(got) != string(shipped) {
		t.Errorf("%s differs from netdata/health.d/ifstat.conf", installed)
	}
	if st, err := os.Stat(installed); err == nil && st.Mode().Perm() != 0o644 {
		t.Errorf("%s: mode %v, want 0644 (Netdata reads it as its own user)", installed, st.Mode().Perm())
	}
	if _, err := os.Stat(installed + ".old"); err == nil {
		t.Errorf("a run over an unchanged %s left a .old copy", installed)
	}
	edited := append([]byte("# edited by hand\n"), shipped...)
	if err := os.WriteFile(installed, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd2(t, cmd).CombinedOutput(); err != nil {
		t.Fatalf("third install-plugin.sh: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(installed); string(got) != string(shipped) {
		t.Errorf("third run did not install the shipped alerts over an edited copy")
	}
	if got, _ := os.ReadFile(installed + ".old"); string(got) != string(edited) {
		t.Errorf("third run did not keep the edited copy as %s.old (got %d bytes)", installed, len(got))
	}
	entries, _ := os.ReadDir(hdir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"ifstat.conf", "ifstat.conf.old"}, names); diff != "" {
		t.Errorf("files in %s (-want +got):\n%s", hdir, diff)
	}
}

// cmd2 returns a fresh copy of an exec.Cmd that has run.
func cmd2(t *testing.T, c *exec.Cmd) *exec.Cmd {
	n := exec.CommandContext(t.Context(), c.Args[0], c.Args[1:]...)
	n.Env = c.Env
	return n
}

// TestEdgeOSInstall runs the EdgeOS installer into a scratch /config and
// checks what survives a firmware upgrade is in place.
func TestEdgeOSInstall(t *testing.T) {
	t.Parallel()
	cfg := t.TempDir()
	src := t.TempDir()
	for _, f := range []string{"install.sh", "ifstat-agent.sh", "agent.env"} {
		b, err := os.ReadFile(filepath.Join("edgeos", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "ifstat-agent"), []byte("binary"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "sh", filepath.Join(src, "install.sh"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CONFIG=" + cfg}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	want := map[string]os.FileMode{
		"ifstat/ifstat-agent":                   0o755,
		"ifstat/agent.env":                      0o600,
		"scripts/post-config.d/ifstat-agent.sh": 0o755,
	}
	got := make(map[string]os.FileMode)
	filepath.WalkDir(cfg, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			st, _ := d.Info()
			rel, _ := filepath.Rel(cfg, p)
			got[rel] = st.Mode().Perm()
		}
		return nil
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files under /config (-want +got):\n%s", diff)
	}
}

// TestNetdataInstallWithoutAlerts: a copy of install-plugin.sh without
// health.d/ next to it (an archive that lacks it) still installs the
// plugin, and says the alerts were not installed.
func TestNetdataInstallWithoutAlerts(t *testing.T) {
	t.Parallel()
	root, dir := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/netdata/plugins.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"install-plugin.sh", "ifstat.conf"} {
		b, err := os.ReadFile(filepath.Join("netdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "ifstat-bridge")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho bridge\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "sh", filepath.Join(dir, "install-plugin.sh"), bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ROOT=" + root}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install-plugin.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "alerts not installed") {
		t.Errorf("install-plugin.sh without health.d/ does not say the alerts were not installed:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/netdata/plugins.d/ifstat.plugin")); err != nil {
		t.Errorf("plugin not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/netdata/health.d")); err == nil {
		t.Error("health.d created without alerts to put there")
	}
}
