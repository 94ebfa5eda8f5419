package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parc-project/parc/plugins/internal/testutil"
	"github.com/parc-project/parc/plugins/pluginapi"
)

func TestParseAptSimulate(t *testing.T) {
	tests := []struct {
		file         string
		wantPending  int
		wantSecurity int
		wantFirst    []string
	}{
		{"apt-get-s-upgrade-debian12.txt", 141, 92, []string{"base-files", "bash", "libgcrypt20-dev"}},
		{"apt-get-s-upgrade-uptodate.txt", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := parseAptSimulate(testutil.Fixture(t, tt.file))
			if len(p.Packages) != tt.wantPending || p.Security != tt.wantSecurity {
				t.Errorf("pending %d security %d, want %d and %d", len(p.Packages), p.Security, tt.wantPending, tt.wantSecurity)
			}
			if n := len(tt.wantFirst); n > 0 && !reflect.DeepEqual(p.Packages[:n], tt.wantFirst) {
				t.Errorf("first packages %v, want %v", p.Packages[:n], tt.wantFirst)
			}
		})
	}
}

func TestIsAptSecurity(t *testing.T) {
	tests := []struct {
		origins string
		want    bool
	}{
		{"1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])", true},
		{"5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []", true},
		{"2.34-1ubuntu1.1 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])", true},
		{"12.4+deb12u15 Debian:12.15/oldstable [amd64])", false},
		{"1.0-security Debian:12/stable [amd64])", false}, // a version ending in -security is not an archive
	}
	for _, tt := range tests {
		if got := isAptSecurity(tt.origins); got != tt.want {
			t.Errorf("isAptSecurity(%q) = %v, want %v", tt.origins, got, tt.want)
		}
	}
}

func TestParseAptHistory(t *testing.T) {
	last, err := parseAptHistory(bytes.NewReader(testutil.Fixture(t, "apt-history-debian12.log")), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 22, 12, 8, 51, 0, time.UTC); !last.Equal(want) {
		t.Errorf("last upgrade %s, want %s", last, want)
	}
	failed := "Start-Date: 2026-11-23  10:00:00\nUpgrade: bash:amd64 (1, 2)\nError: Sub-process /usr/bin/dpkg returned an error code (1)\nEnd-Date: 2026-11-23  10:01:00\n" +
		"Start-Date: 2026-11-24  10:00:00\nInstall: htop:amd64 (3.2.2-2)\nEnd-Date: 2026-11-24  10:00:05\n"
	last, err = parseAptHistory(bytes.NewReader(append(testutil.Fixture(t, "apt-history-debian12.log"), failed...)), time.UTC)
	if err != nil || !last.Equal(time.Date(2026, 11, 22, 12, 8, 51, 0, time.UTC)) {
		t.Errorf("a failed upgrade and a plain install moved the last update to %s (%v)", last, err)
	}
}

func TestParseDnf(t *testing.T) {
	pkgs := parseDnfCheckUpdate(testutil.Fixture(t, "dnf-check-update-rocky9-handmade.txt"))
	want := []string{"NetworkManager", "NetworkManager-libnm", "kernel", "kernel-core", "openssl-libs", "python3-libdnf5-extremely-long-package-name", "tzdata"}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("check-update: %v, want %v", pkgs, want)
	}
	if n := parseDnfSecurity(testutil.Fixture(t, "dnf-updateinfo-security-rocky9-handmade.txt")); n != 3 {
		t.Errorf("dnf 4 security: %d, want 3", n)
	}
	if n := parseDnfSecurity(testutil.Fixture(t, "dnf5-advisory-security-fedora41-handmade.txt")); n != 2 {
		t.Errorf("dnf 5 security: %d, want 2", n)
	}
	last, err := parseDnfRPMLog(bytes.NewReader(testutil.Fixture(t, "dnf.rpm-rocky9-handmade.log")))
	if want := time.Date(2024, 10, 21, 3, 31, 45, 0, time.UTC); err != nil || !last.Equal(want) {
		t.Errorf("rpm log: %s %v, want %s", last, err, want)
	}
}

func TestParseWUA(t *testing.T) {
	f, err := parseWUA(testutil.Fixture(t, "wua-windows11-handmade.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Manager != "windows-update" || f.Pending != 3 || f.PendingSecurity != 2 || !f.RebootRequired ||
		f.LastSuccess == nil || !f.LastSuccess.Equal(time.Date(2024, 10, 9, 17, 42, 10, 0, time.UTC)) {
		t.Errorf("got %+v", f)
	}
	f, err = parseWUA(testutil.Fixture(t, "wua-windows11-never-handmade.json"))
	if err != nil || f.Pending != 0 || f.LastSuccess != nil || f.Packages == nil {
		t.Errorf("never updated: %+v %v; want nothing pending, no last success", f, err)
	}
	if _, err := parseWUA([]byte("Exception calling \"Search\"")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseSoftwareUpdate(t *testing.T) {
	got := parseSoftwareUpdateList(testutil.Fixture(t, "softwareupdate-list-sonoma-handmade.txt"))
	want := []string{"macOS Sonoma 14.7.1", "Safari", "Command Line Tools for Xcode"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list: %q, want %q", got, want)
	}
	if got := parseSoftwareUpdateList(testutil.Fixture(t, "softwareupdate-list-none-handmade.txt")); len(got) != 0 {
		t.Errorf("none: %q", got)
	}
	last, err := parseInstallHistory(bytes.NewReader(testutil.Fixture(t, "InstallHistory-sonoma-handmade.plist")))
	if want := time.Date(2024, 10, 29, 3, 11, 52, 0, time.UTC); err != nil || !last.Equal(want) {
		t.Errorf("install history: %s %v, want %s", last, err, want)
	}
}

func TestSampleConfig(t *testing.T) {
	raw, err := pluginapi.YAMLToJSON(sample)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := loadConfig(raw); err != nil || cfg.MaxPackages != 20 {
		t.Errorf("sample.yaml: %+v %v", cfg, err)
	}
	if _, err := loadConfig(json.RawMessage(`{"max_packages":-1}`)); err == nil {
		t.Error("negative max_packages accepted")
	}
}
