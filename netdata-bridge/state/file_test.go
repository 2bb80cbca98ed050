package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got, err := Load(dir)
	if got != nil || err != nil {
		t.Fatalf("Load(empty folder) = %v, %v, want nil, nil", got, err)
	}
	for seq := range uint64(3) {
		s := testSnapshot(3, 4)
		s.Seq = seq
		if err := Save(dir, s); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if diff := cmp.Diff(s, got, equateEmpty); diff != "" {
			t.Fatalf("Load(Save(s)) mismatch (-want +got):\n%s", diff)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != FileName {
		t.Fatalf("folder holds %v, want only %s", entries, FileName)
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := testSnapshot(1, 1)
	if err := Save(dir, old); err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, &Snapshot{Bridge: "Not Valid"}); err == nil {
		t.Fatal("Save(invalid bridge id) succeeded")
	}
	mustLoad(t, dir, old)
}

// TestSaveInterrupted fails each step of Save in turn: up to the rename
// the old file must load unchanged and no temp file may stay behind.
func TestSaveInterrupted(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"write", "sync", "rename", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			old := testSnapshot(2, 2)
			if err := Save(dir, old); err != nil {
				t.Fatal(err)
			}
			next := testSnapshot(2, 3)
			next.Seq++
			b, err := Encode(next)
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			err = save(dir, b, func(s string) error {
				if s == step {
					return boom
				}
				return nil
			})
			if !errors.Is(err, boom) {
				t.Fatalf("save failing at %s: error = %v, want boom", step, err)
			}
			want := old
			if step == "syncdir" { // the rename happened; only its durability is in doubt
				want = next
			}
			mustLoad(t, dir, want)
			if m, _ := filepath.Glob(filepath.Join(dir, tempPattern)); len(m) != 0 {
				t.Errorf("temp files left behind: %v", m)
			}
		})
	}
}

// TestLoadAfterCrash plays what a crash can leave: a temp file of any
// length beside the old file, or (on a file system without atomic rename
// guarantees) a target cut short. Load returns the old snapshot or an
// error, never a part of one.
func TestLoadAfterCrash(t *testing.T) {
	t.Parallel()
	s := testSnapshot(2, 2)
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := Save(dir, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".state-123.tmp"), b[:len(b)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, dir, s)

	for n := range len(b) { // every proper prefix of the file
		if got, err := Decode(b[:n]); err == nil {
			t.Fatalf("Decode(first %d of %d bytes) = %+v, want an error", n, len(b), got)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if got != nil || err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Load(truncated file) = %v, %v, want nil and ErrMalformed naming the file", got, err)
	}
}

func mustLoad(t *testing.T, dir string, want *Snapshot) {
	t.Helper()
	got, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Fatalf("Load mismatch (-want +got):\n%s", diff)
	}
}
