package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the snapshot's file in the state folder (IFSTAT_STATE_DIR).
const FileName = "state.json"

// tempPattern names Save's temp files; Load never reads them.
const tempPattern = ".state-*.tmp"

// Save writes s to dir/FileName atomically: the JSON goes to a temp file
// in dir, which is synced and renamed over the old file, and dir is synced
// so that the rename survives a power cut. A crash or an error at any step
// leaves the previous file whole. One bridge writes a folder at a time.
func Save(dir string, s *Snapshot) error {
	b, err := Encode(s)
	if err != nil {
		return err
	}
	return save(dir, b, nil)
}

// save writes b; fail, when set, is asked before each step and its error
// stands for that step failing (the tests' way to interrupt a save).
func save(dir string, b []byte, fail func(step string) error) (err error) {
	step := func(name string) error {
		if fail == nil {
			return nil
		}
		return fail(name)
	}
	f, err := os.CreateTemp(dir, tempPattern)
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := step("write"); err != nil {
		// A write cut short: half the bytes reach the temp file.
		f.Write(b[:len(b)/2])
		return fmt.Errorf("saving state: writing %s: %w", tmp, err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("saving state: writing %s: %w", tmp, err)
	}
	if err := errors.Join(step("sync"), f.Sync()); err != nil {
		return fmt.Errorf("saving state: syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("saving state: closing %s: %w", tmp, err)
	}
	target := filepath.Join(dir, FileName)
	if err := step("rename"); err != nil {
		return fmt.Errorf("saving state: renaming %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("saving state: renaming %s: %w", tmp, err)
	}
	// From here the new file is in place; a failed folder sync only means
	// the rename may not yet be durable.
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("saving state: syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := errors.Join(step("syncdir"), d.Sync()); err != nil {
		return fmt.Errorf("saving state: syncing %s: %w", dir, err)
	}
	return nil
}

// Load reads dir/FileName. A missing file is (nil, nil): a first start. A
// file that is too large, unreadable or fails Decode is an error naming
// the file; the bridge logs it and falls back to the retained messages.
// Temp files of an interrupted Save are ignored.
func Load(dir string) (*Snapshot, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading state: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("loading state: reading %s: %w", path, err)
	}
	s, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("loading state from %s: %w", path, err)
	}
	return s, nil
}
