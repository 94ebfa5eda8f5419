//go:build !linux && !darwin && !windows

package inventory

import (
	"context"
	"errors"
)

// Installed is not supported on this operating system.
func Installed(context.Context) ([]App, error) {
	return nil, errors.New("installed applications: not supported on this operating system")
}

// Running is not supported on this operating system.
func Running(context.Context) (map[string]bool, error) {
	return nil, errors.New("running processes: not supported on this operating system")
}
