package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeT records failures instead of ending the test, so Check's verdicts
// can be asserted.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic(f) }
func (f *fakeT) Fatal(...any)          { f.failed = true; panic(f) }

func check(name string, got []byte) (failed bool) {
	f := &fakeT{}
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		failed = f.failed
	}()
	Check(f, name, got)
	return
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll(filepath.Join("testdata", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "sub", "a.golden"), []byte("BEGIN x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, got string
		wantFail  bool
	}{
		{"sub/a.golden", "BEGIN x\n", false},
		{"sub/a.golden", "BEGIN y\n", true},
		{"missing.golden", "", true},
	} {
		if got := check(tt.name, []byte(tt.got)); got != tt.wantFail {
			t.Errorf("Check(%q, %q) failed = %v, want %v", tt.name, tt.got, got, tt.wantFail)
		}
	}

	*update = true
	defer func() { *update = false }()
	if check("new/b.golden", []byte("SET x = 1\n")) {
		t.Fatal("Check with -update failed")
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "new", "b.golden")); err != nil || string(b) != "SET x = 1\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
}
