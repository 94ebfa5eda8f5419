//go:build windows

package durable

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Rename renames from to to. Windows cannot open a directory to flush
// it; MOVEFILE_WRITE_THROUGH makes MoveFileEx return only once the rename is
// on disk, which is what flushing the directory does elsewhere.
func Rename(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return fmt.Errorf("renaming %s: %w", from, err)
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return fmt.Errorf("renaming to %s: %w", to, err)
	}
	if err := windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", from, to, err)
	}
	return nil
}

// SyncDir does nothing on Windows: NTFS journals directory changes itself
// and a directory handle cannot be flushed (see Rename).
func SyncDir(string) error { return nil }
