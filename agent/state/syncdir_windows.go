package state

// syncDir is a no-op on Windows: NTFS makes a rename durable with its
// journal, and directories cannot be opened for fsync.
func syncDir(string) error { return nil }
