package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// kioskFixture writes a "USB stick" with one clean and one "infected" file,
// and a hash signature database (.hdb: md5:size:name, the format sigtool
// --md5 prints) that names the infected file, so a real clamscan really
// finds it.
func kioskFixture(t *testing.T) (stick, dbDir, infected string) {
	t.Helper()
	if !plugutil.Installed("clamscan") {
		t.Skip("clamscan not installed: apt-get install clamav to run the end-to-end test")
	}
	root := t.TempDir()
	stick, dbDir = filepath.Join(root, "usb"), filepath.Join(root, "db")
	infected = filepath.Join(stick, "devoirs", "jeu.exe")
	for _, d := range []string{filepath.Dir(infected), dbDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	payload := fmt.Appendf(nil, "parc end-to-end test payload %d\n", time.Now().UnixNano())
	if err := os.WriteFile(infected, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stick, "notes.txt"), []byte("clean\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(payload)
	hdb := fmt.Sprintf("%s:%d:Parc.Test.Kiosk\n", hex.EncodeToString(sum[:]), len(payload))
	if err := os.WriteFile(filepath.Join(dbDir, "parc-test.hdb"), []byte(hdb), 0o644); err != nil {
		t.Fatal(err)
	}
	return stick, dbDir, infected
}

func TestEndToEndScanPath(t *testing.T) {
	stick, dbDir, infected := kioskFixture(t)
	cfg := config{DatabaseDir: dbDir, RecentDays: 1, ScanPath: stick, Clamscan: "clamscan"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, errs := collect(ctx, cfg, time.Now(), time.Local)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if !f.Installed || f.EngineVersion == "" {
		t.Errorf("installed %v, engine %q: want clamav found", f.Installed, f.EngineVersion)
	}
	if f.Scans != 1 || f.FilesScanned != 2 || f.LastScanInfected != 1 || f.LastScanUnhandled != 1 || f.LastScan == nil {
		t.Errorf("scan summary %+v: want 1 scan of 2 files, 1 infection left in place", f)
	}
	if len(f.Infections) != 1 || f.Infections[0].Path != infected || f.Infections[0].Signature != "Parc.Test.Kiosk.UNOFFICIAL" {
		t.Errorf("infections %+v: want %s as Parc.Test.Kiosk.UNOFFICIAL", f.Infections, infected)
	}
}

// TestEndToEndScanLog is the kiosk's own procedure: its scan script runs
// clamscan with --log and --move; the plugin reads the log.
func TestEndToEndScanLog(t *testing.T) {
	stick, dbDir, infected := kioskFixture(t)
	quarantine := filepath.Join(t.TempDir(), "quarantine")
	if err := os.Mkdir(quarantine, 0o700); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "kiosk-scan.log")
	out, err := exec.Command("clamscan", "--database="+dbDir, "--recursive", "--move="+quarantine, "--log="+logPath, stick).CombinedOutput()
	// Exit code 1 means "found something", which is the point here.
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1) {
		t.Fatalf("clamscan: %v\n%s", err, out)
	}
	cfg := config{DatabaseDir: dbDir, RecentDays: 1, ScanLogs: []string{logPath, filepath.Join(t.TempDir(), "never-written.log")}, Clamscan: "clamscan"}
	f, errs := collect(context.Background(), cfg, time.Now(), time.Local)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(f.Infections) != 1 || f.Infections[0].Path != infected || f.Infections[0].Action != "moved" {
		t.Errorf("infections %+v: want %s moved", f.Infections, infected)
	}
	if f.Scans != 1 || f.LastScanInfected != 1 || f.LastScanUnhandled != 0 {
		t.Errorf("summary %+v: want 1 scan, 1 infection, handled", f)
	}
	if _, err := os.Stat(infected); err == nil {
		t.Errorf("%s still on the stick: clamscan did not move it", infected)
	}
}

func TestNotInstalled(t *testing.T) {
	cfg := config{DatabaseDir: filepath.Join(t.TempDir(), "none"), RecentDays: 30, Clamscan: "parc-no-such-clamscan"}
	f, errs := collect(context.Background(), cfg, time.Now(), time.Local)
	if f.Installed || len(errs) != 0 {
		t.Errorf("facts %+v errors %v: want Installed false and no error", f, errs)
	}
	cfg.ScanPath = t.TempDir()
	if _, errs := collect(context.Background(), cfg, time.Now(), time.Local); len(errs) != 1 {
		t.Errorf("scan_path without clamscan: errors %v, want one", errs)
	}
}
