//go:build !linux && !windows

package footprint

// trimCode does nothing where the OS offers no way to give back code pages
// (macOS reclaims them under memory pressure by itself).
func trimCode() error { return nil }
