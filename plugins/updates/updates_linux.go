package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// collectOS asks apt, or dnf where apt is absent.
func collectOS(ctx context.Context) (updatesFacts, []error, error) {
	switch {
	case plugutil.Installed("apt-get"):
		return collectApt(ctx)
	case plugutil.Installed("dnf"):
		return collectDnf(ctx)
	}
	return updatesFacts{}, nil, errors.New("no supported package manager found (apt-get, dnf)")
}

func collectApt(ctx context.Context) (updatesFacts, []error, error) {
	f := updatesFacts{Manager: "apt"}
	// Debug::NoLocking lets the simulation run next to a running apt and
	// without root.
	out, err := plugutil.Run(ctx, "apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade")
	if err != nil {
		return f, nil, fmt.Errorf("listing pending updates: %w", err)
	}
	p := parseAptSimulate(out)
	f.Pending, f.PendingSecurity, f.Packages = len(p.Packages), p.Security, p.Packages

	var errs []error
	// Debian and Ubuntu packages that need a reboot create this file.
	if _, err := os.Stat("/var/run/reboot-required"); err == nil {
		f.RebootRequired = true
	}
	last, err := lastAptUpgrade("/var/log/apt/history.log")
	if err != nil {
		errs = append(errs, err)
	}
	if !last.IsZero() {
		f.LastSuccess = &last
	}
	return f, errs, nil
}

// lastAptUpgrade looks in history.log, then in its newest rotated copy
// (logrotate compresses it monthly): a machine updated last month has an
// empty history.log.
func lastAptUpgrade(path string) (time.Time, error) {
	for _, p := range []string{path, path + ".1.gz"} {
		last, err := readAptHistory(p)
		if err != nil || !last.IsZero() {
			return last, err
		}
	}
	return time.Time{}, nil
}

func readAptHistory(path string) (time.Time, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("last update time: %w", err)
	}
	defer fh.Close()
	var r io.Reader = fh
	if len(path) > 3 && path[len(path)-3:] == ".gz" {
		gz, err := gzip.NewReader(fh)
		if err != nil {
			return time.Time{}, fmt.Errorf("last update time: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	last, err := parseAptHistory(r, time.Local)
	if err != nil {
		return last, fmt.Errorf("last update time: reading %s: %w", path, err)
	}
	return last, nil
}

func collectDnf(ctx context.Context) (updatesFacts, []error, error) {
	f := updatesFacts{Manager: "dnf"}
	out, err := plugutil.Run(ctx, "dnf", "-q", "check-update")
	// check-update exits 100 when updates are pending, 0 when none.
	if err != nil && plugutil.ExitCode(err) != 100 {
		return f, nil, fmt.Errorf("listing pending updates: %w", err)
	}
	f.Packages = parseDnfCheckUpdate(out)
	f.Pending = len(f.Packages)

	var errs []error
	out, err = plugutil.Run(ctx, "dnf", "-q", "updateinfo", "list", "--security", "--available")
	if err != nil {
		f.PendingSecurity = -1
		errs = append(errs, fmt.Errorf("counting security updates: %w", err))
	} else {
		f.PendingSecurity = parseDnfSecurity(out)
	}

	// needs-restarting -r exits 1 when a reboot is needed (dnf-utils on
	// dnf 4; a dnf subcommand on dnf 5).
	_, err = plugutil.Run(ctx, "needs-restarting", "-r")
	if errors.Is(err, plugutil.ErrNotInstalled) {
		_, err = plugutil.Run(ctx, "dnf", "-q", "needs-restarting", "-r")
	}
	switch plugutil.ExitCode(err) {
	case 1:
		f.RebootRequired = true
	case -1:
		if err != nil {
			errs = append(errs, fmt.Errorf("reboot required: %w", err))
		}
	}

	if fh, err := os.Open("/var/log/dnf.rpm.log"); err == nil {
		last, err := parseDnfRPMLog(fh)
		fh.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("last update time: %w", err))
		}
		if !last.IsZero() {
			f.LastSuccess = &last
		}
	}
	return f, errs, nil
}
