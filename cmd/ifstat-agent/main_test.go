package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allVars are every variable the agent honours; -h must list each.
var allVars = []string{
	"IFSTAT_BROKER", "IFSTAT_USERNAME", "IFSTAT_PASSWORD", "IFSTAT_CA_FILE", "IFSTAT_CERT_FILE",
	"IFSTAT_KEY_FILE", "IFSTAT_TOPIC_PREFIX", "IFSTAT_LOG_LEVEL", "IFSTAT_LOG_FORMAT",
	"IFSTAT_NODE", "IFSTAT_INTERFACES", "IFSTAT_PROC_ROOT", "IFSTAT_SYS_ROOT", "IFSTAT_MAX_RATE",
}

// clearEnv unsets every IFSTAT_ variable for the test.
func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "IFSTAT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ca.pem")
	badFile := filepath.Join(t.TempDir(), "agent.conf")
	if err := os.WriteFile(badFile, []byte("IFSTAT_NODE=gw\nIFSTAT_MAX_RATE=-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantVar string
	}{
		{name: "bad glob", env: map[string]string{"IFSTAT_INTERFACES": "eth0,wg["}, wantVar: "IFSTAT_INTERFACES"},
		{name: "missing CA file", env: map[string]string{"IFSTAT_CA_FILE": missing}, wantVar: "IFSTAT_CA_FILE"},
		{name: "bad broker URL", env: map[string]string{"IFSTAT_BROKER": "http://broker:1883"}, wantVar: "IFSTAT_BROKER"},
		{name: "broker without host", env: map[string]string{"IFSTAT_BROKER": "tcp://"}, wantVar: "IFSTAT_BROKER"},
		{name: "empty node", env: map[string]string{"IFSTAT_NODE": ""}, wantVar: "IFSTAT_NODE"},
		{name: "node with space", env: map[string]string{"IFSTAT_NODE": "er x"}, wantVar: "IFSTAT_NODE"},
		{name: "max rate not a number", env: map[string]string{"IFSTAT_MAX_RATE": "abc"}, wantVar: "IFSTAT_MAX_RATE"},
		{name: "max rate zero", env: map[string]string{"IFSTAT_MAX_RATE": "0"}, wantVar: "IFSTAT_MAX_RATE"},
		{name: "bad log level", env: map[string]string{"IFSTAT_LOG_LEVEL": "loud"}, wantVar: "IFSTAT_LOG_LEVEL"},
		{name: "bad value in config file", args: []string{"-config", badFile}, wantVar: "IFSTAT_MAX_RATE"},
		{name: "environment overrides file", env: map[string]string{"IFSTAT_NODE": "a/b"}, args: []string{"-config", badFile}, wantVar: "IFSTAT_NODE"},
		{name: "missing config file", args: []string{"-config", missing}, wantVar: "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			if code != 2 {
				t.Errorf("run() = %d, want 2; stderr %q", code, stderr.String())
			}
			line := stderr.String()
			if !strings.HasPrefix(line, "ifstat-agent: "+tt.wantVar+": ") || strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Errorf("stderr = %q, want one line \"ifstat-agent: %s: …\"", line, tt.wantVar)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run(-h) = %d, want 0; stderr %q", code, stderr.String())
	}
	out := stdout.String()
	for _, v := range allVars {
		if !regexp.MustCompile(`(?m)^` + v + `\s`).MatchString(out) {
			t.Errorf("-h does not list %s:\n%s", v, out)
		}
	}
	for _, d := range []string{"tcp://127.0.0.1:1883", "/proc", "/sys", "200", "-config", "-version"} {
		if !strings.Contains(out, d) {
			t.Errorf("-h lacks %q", d)
		}
	}
}

func TestRunVersion(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"-version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run(-version) = %d, want 0", code)
	}
	if !strings.HasPrefix(stdout.String(), "ifstat-agent "+version+" ") {
		t.Errorf("-version printed %q, want it to start with %q", stdout.String(), "ifstat-agent "+version)
	}
}

func TestRunBadFlag(t *testing.T) {
	clearEnv(t)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"-nope"}, &stdout, &stderr); code != 2 {
		t.Errorf("run(-nope) = %d, want 2", code)
	}
}

func TestSetMemoryDefaults(t *testing.T) {
	tests := []struct {
		name              string
		env               map[string]string
		wantGC, wantLimit bool
	}{
		{name: "unset", env: map[string]string{}, wantGC: true, wantLimit: true},
		{name: "GOGC set", env: map[string]string{"GOGC": "100"}, wantLimit: true},
		{name: "both set", env: map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			gc, limit := setMemoryDefaults(lookup)
			if gc != tt.wantGC || limit != tt.wantLimit {
				t.Errorf("setMemoryDefaults() = %v, %v; want %v, %v", gc, limit, tt.wantGC, tt.wantLimit)
			}
		})
	}
}

// TestNoBridgeImports keeps the router binary small: it must not link the
// bridge or Home Assistant discovery.
func TestNoBridgeImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "/netdata-bridge") || strings.HasSuffix(pkg, "/discovery") || strings.Contains(pkg, "/discovery/") {
			t.Errorf("ifstat-agent depends on %s", pkg)
		}
	}
}
