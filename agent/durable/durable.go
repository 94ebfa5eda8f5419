// Package durable writes the agent's files so that a crash or a power loss
// leaves either the old content or the new, never half of one: the state
// file, the pinned CA and every spooled report go through it.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every file still being written; whoever
// owns a directory may remove such files at start-up: they belong to a
// write that never reached its rename.
const TempPrefix = ".tmp-"

// WriteFile makes path hold data with mode perm, whole or not at all, and
// durable once it returns: write a temporary file beside it, flush it to
// the disk, rename it over path, and flush the directory so the rename
// survives a power loss too.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("creating temporary file in %s: %w", dir, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return fail(fmt.Errorf("setting the mode of %s: %w", tmp, err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("writing %s: %w", tmp, err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("flushing %s to disk: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
