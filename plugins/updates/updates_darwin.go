package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// collectOS asks softwareupdate. macOS does not say which updates are
// security ones (every macOS point release carries security fixes), so
// PendingSecurity is -1; nor does it keep a "reboot pending" flag, so
// RebootRequired stays false.
func collectOS(ctx context.Context) (updatesFacts, []error, error) {
	f := updatesFacts{Manager: "softwareupdate", PendingSecurity: -1}
	// --list checks Apple's catalogue over the network; "No new software
	// available." goes to stderr with exit code 0.
	out, err := plugutil.Run(ctx, "softwareupdate", "--list")
	if err != nil {
		return f, nil, fmt.Errorf("listing pending updates: %w", err)
	}
	f.Packages = parseSoftwareUpdateList(out)
	f.Pending = len(f.Packages)

	var errs []error
	fh, err := os.Open("/Library/Receipts/InstallHistory.plist")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		errs = append(errs, fmt.Errorf("last update time: %w", err))
	default:
		last, err := parseInstallHistory(fh)
		fh.Close()
		if err != nil {
			errs = append(errs, err)
		}
		if !last.IsZero() {
			f.LastSuccess = &last
		}
	}
	return f, errs, nil
}
