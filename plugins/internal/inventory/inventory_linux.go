package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// Installed lists the packages dpkg knows, or rpm's where dpkg is absent.
func Installed(ctx context.Context) ([]App, error) {
	f, err := os.Open("/var/lib/dpkg/status")
	if err == nil {
		defer f.Close()
		apps, err := ParseDpkgStatus(f)
		if err != nil {
			return apps, fmt.Errorf("reading dpkg status: %w", err)
		}
		return apps, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading dpkg status: %w", err)
	}
	out, err := plugutil.Run(ctx, "rpm", "-qa", "--qf", RPMQueryFormat)
	if errors.Is(err, plugutil.ErrNotInstalled) {
		return nil, errors.New("no package database found (dpkg, rpm)")
	}
	if err != nil {
		return nil, fmt.Errorf("listing rpm packages: %w", err)
	}
	return ParseRPMQuery(out), nil
}

// Running returns the names of running processes (their comm).
func Running(context.Context) (map[string]bool, error) {
	return ProcNames("/proc")
}
