//go:build !windows

package durable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Rename renames from to to and flushes the directory, so that after
// a power loss the directory holds the new name, not the old one.
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", from, to, err)
	}
	return SyncDir(filepath.Dir(to))
}

// SyncDir flushes a directory's entries to disk. On Darwin, os.File.Sync
// issues F_FULLFSYNC, the only call that reaches the platter there.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s to flush it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		// Some file systems (certain FUSE and network mounts) cannot flush
		// a directory; the rename is then as durable as they make it.
		if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.ENOTTY) {
			return nil
		}
		return fmt.Errorf("flushing directory %s: %w", dir, err)
	}
	return nil
}
