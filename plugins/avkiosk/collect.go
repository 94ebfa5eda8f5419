package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/plugutil"
	"github.com/parc-project/parc/plugins/pluginapi"
)

// newPlugin returns parc-plugin-avkiosk.
func newPlugin() pluginapi.FactPlugin {
	return pluginapi.FactPlugin{Name: "avkiosk", Version: "0.1.0", Fact: agentapi.FactAVKiosk, Gather: gather}
}

func gather(ctx context.Context, raw json.RawMessage) (any, []error, error) {
	cfg, err := loadConfig(raw)
	if err != nil {
		return nil, nil, err
	}
	facts, errs := collect(ctx, cfg, time.Now(), time.Local)
	return facts, errs, nil
}

// collect gathers the kiosk facts. Each part that fails adds an error and
// the others still fill their fields: a stale database is worth reporting
// even when a log is unreadable.
func collect(ctx context.Context, cfg config, now time.Time, loc *time.Location) (agentapi.AVKioskFacts, []error) {
	f := agentapi.AVKioskFacts{Engine: "clamav"}
	var errs []error

	out, err := plugutil.Run(ctx, cfg.Clamscan, "--version")
	sigVersion := 0
	switch {
	case err == nil:
		f.Installed = true
		f.EngineVersion, sigVersion, _ = parseClamVersion(string(out))
	case !errors.Is(err, plugutil.ErrNotInstalled):
		errs = append(errs, fmt.Errorf("clamscan --version: %w", err))
	}

	db, anySigs, err := readDatabases(cfg.DatabaseDir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !f.Installed:
		// No ClamAV on this machine: not a kiosk. Honest and not an error.
	case err != nil && db == nil:
		errs = append(errs, fmt.Errorf("signature databases in %s: %w", cfg.DatabaseDir, err))
	case db == nil && !anySigs:
		errs = append(errs, fmt.Errorf("no signature database in %s: run freshclam", cfg.DatabaseDir))
	}
	if db != nil {
		f.Installed = true
		f.SignatureVersion = db.Version
		f.SignatureTime = &db.Built
	} else if sigVersion > 0 {
		f.SignatureVersion = sigVersion // the version without its time is still worth saying
	}

	var scans []scan
	for _, path := range cfg.ScanLogs {
		s, err := readScanLog(path, loc)
		if err != nil {
			errs = append(errs, err)
		}
		scans = append(scans, s...)
	}
	if cfg.ScanPath != "" {
		s, err := scanNow(ctx, cfg, loc)
		if err != nil {
			errs = append(errs, err)
		}
		scans = append(scans, s...)
	}
	summarise(&f, scans, now.AddDate(0, 0, -cfg.RecentDays))
	return f, errs
}

func readScanLog(path string, loc *time.Location) ([]scan, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the kiosk has not scanned yet
	}
	if err != nil {
		return nil, fmt.Errorf("scan log: %w", err)
	}
	defer fh.Close()
	scans, err := parseScanLog(fh, loc)
	if err != nil {
		return scans, fmt.Errorf("reading scan log %s: %w", path, err)
	}
	return scans, nil
}

// scanNow runs clamscan on the configured path, without moving or removing
// anything: the kiosk's own procedure decides what to do with a stick.
func scanNow(ctx context.Context, cfg config, loc *time.Location) ([]scan, error) {
	args := []string{"--recursive", "--infected"}
	if cfg.DatabaseDir != "" {
		args = append(args, "--database="+cfg.DatabaseDir)
	}
	out, err := plugutil.Run(ctx, cfg.Clamscan, append(args, cfg.ScanPath)...)
	// clamscan exits 1 when it found something: an answer, not a failure.
	if err != nil && plugutil.ExitCode(err) != 1 {
		if errors.Is(err, plugutil.ErrNotInstalled) {
			return nil, fmt.Errorf("scan_path is set but clamscan is not installed (%s)", cfg.Clamscan)
		}
		return nil, fmt.Errorf("scanning %s: %w", cfg.ScanPath, err)
	}
	return parseScanLog(bytes.NewReader(out), loc)
}

// parseClamVersion reads `clamscan --version`: "ClamAV 1.4.3" without a
// database, "ClamAV 1.4.3/27463/Sat Nov 21 08:27:45 2026" with one.
func parseClamVersion(out string) (engine string, sigVersion int, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(out), "ClamAV ")
	if !found {
		return "", 0, false
	}
	parts := strings.SplitN(rest, "/", 3)
	engine = parts[0]
	if len(parts) > 1 {
		sigVersion, _ = strconv.Atoi(parts[1])
	}
	return engine, sigVersion, engine != ""
}
