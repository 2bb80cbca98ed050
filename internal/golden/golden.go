// Package golden compares a test's output with a file under testdata/ and,
// when the test binary runs with -update, rewrites that file first. Golden
// files hold protocol output (plugins.d rounds, discovery configs, replies,
// state) whose every byte is part of a contract, so a change to one shows
// up as a diff in review.
//
// Tests only. The -update flag is registered here, once per test binary;
// a test that rewrites other files on -update asks Update.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// Check compares got with testdata/<name> (name may contain '/'). Under
// -update it writes got there first, creating directories as needed.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-golden +got; rerun with -update and review the diff):\n%s", path, diff)
	}
}
