package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/testutil"
	"github.com/parc-project/parc/plugins/pluginapi"
)

func ptime(t time.Time) *time.Time { return &t }

func TestReadDatabases(t *testing.T) {
	newest, anySigs, err := readDatabases("testdata/db")
	if err != nil {
		t.Fatal(err)
	}
	want := database{File: "daily.cld", Version: 27830, Sigs: 2077154, Built: time.Date(2026, 11, 21, 8, 27, 0, 0, time.UTC)}
	if !anySigs || newest == nil || *newest != want {
		t.Errorf("newest = %+v (any %v), want %+v", newest, anySigs, want)
	}
}

func TestParseCVDHeader(t *testing.T) {
	tests := []struct {
		name    string
		head    string
		want    database
		wantErr string
	}{
		{name: "main.cvd", head: "ClamAV-VDB:03 Oct 2024 04-26 -0400:62:6647427:90:a8f3:4Jb:raynman:1727943960",
			want: database{Version: 62, Sigs: 6647427, Built: time.Unix(1727943960, 0).UTC()}},
		{name: "padded with NULs", head: "ClamAV-VDB:21 Nov 2026 08-27 +0000:27830:2077154:90:X:X:raynman:1795249620\x00\x00",
			want: database{Version: 27830, Sigs: 2077154, Built: time.Unix(1795249620, 0).UTC()}},
		{name: "not a database", head: "\x1f\x8b\x08\x00", wantErr: "not a ClamAV database"},
		{name: "truncated", head: "ClamAV-VDB:21 Nov 2026 08-27 +0000:27830", wantErr: "has 2 fields"},
		{name: "bad version", head: "ClamAV-VDB:t:x:1:90:X:X:b:1795249620", wantErr: "version"},
		{name: "bad time", head: "ClamAV-VDB:t:1:1:90:X:X:b:yesterday", wantErr: "build time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCVDHeader([]byte(tt.head))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseScanLog(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation(clamscanTimeLayout, s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file string
		want []scan
	}{
		{file: "clamscan-log-debian12.log", want: []scan{
			{Summary: true, Engine: "1.4.3", Start: at("2026:11:22 13:48:52"), End: at("2026:11:22 13:48:53"), Files: 2, Infected: 1,
				Infections: []agentapi.Infection{{Path: "/tmp/cs/usb/docs/payload.bin", Signature: "Parc.Test.Payload.UNOFFICIAL", Time: ptime(at("2026:11:22 13:48:52"))}}},
			{Summary: true, Engine: "1.4.3", Start: at("2026:11:22 13:48:53"), End: at("2026:11:22 13:48:53"), Files: 3, Infected: 2,
				Infections: []agentapi.Infection{
					{Path: "/tmp/cs/usb/p2.bin", Signature: "Parc.Test.Payload.UNOFFICIAL", Action: "moved", Time: ptime(at("2026:11:22 13:48:53"))},
					{Path: "/tmp/cs/usb/docs/payload.bin", Signature: "Parc.Test.Payload.UNOFFICIAL", Action: "moved", Time: ptime(at("2026:11:22 13:48:53"))}}},
			{Summary: true, Engine: "1.4.3", Start: at("2026:11:22 13:49:00"), End: at("2026:11:22 13:49:00"), Files: 3, Infected: 1,
				Infections: []agentapi.Infection{{Path: "/tmp/cs/usb/p2.bin", Signature: "Parc.Test.Payload.UNOFFICIAL", Action: "removed", Time: ptime(at("2026:11:22 13:49:00"))}}},
		}},
		{file: "clamscan-stdout-debian12.txt", want: []scan{
			{Summary: true, Engine: "1.4.3", Start: at("2026:11:22 13:50:56"), End: at("2026:11:22 13:50:56"), Files: 2, Infected: 1,
				Infections: []agentapi.Infection{{Path: "/tmp/cs/usb/docs/payload.bin", Signature: "Parc.Test.Payload.UNOFFICIAL", Time: ptime(at("2026:11:22 13:50:56"))}}},
		}},
		{file: "clamd-debian12-handmade.log", want: []scan{
			{Infections: []agentapi.Infection{
				{Path: "/media/kiosk/USB-ELEVE/jeux/setup.exe", Signature: "Win.Trojan.Agent-1234567", Time: ptime(time.Date(2026, 11, 22, 10, 2, 41, 0, time.UTC))},
				{Path: "/media/kiosk/USB-ELEVE/Travail: maths.docx", Signature: "Doc.Dropper.Agent-7654321", Time: ptime(time.Date(2026, 11, 22, 10, 2, 44, 0, time.UTC))}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseScanLog(bytes.NewReader(testutil.Fixture(t, tt.file)), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			testutil.EqualJSON(t, got, tt.want)
		})
	}
}

func TestSummarise(t *testing.T) {
	scans, err := parseScanLog(bytes.NewReader(testutil.Fixture(t, "clamscan-log-debian12.log")), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	clamd, err := parseScanLog(bytes.NewReader(testutil.Fixture(t, "clamd-debian12-handmade.log")), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	scans = append(scans, clamd...)
	tests := []struct {
		name  string
		since time.Time
		want  agentapi.AVKioskFacts
	}{
		{name: "all recent", since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), want: agentapi.AVKioskFacts{
			Scans: 3, FilesScanned: 8, LastScan: ptime(time.Date(2026, 11, 22, 13, 49, 0, 0, time.UTC)), EngineVersion: "1.4.3",
			LastScanInfected: 1, LastScanUnhandled: 0}},
		{name: "only the last", since: time.Date(2026, 11, 22, 13, 48, 59, 0, time.UTC), want: agentapi.AVKioskFacts{
			Scans: 1, FilesScanned: 3, LastScan: ptime(time.Date(2026, 11, 22, 13, 49, 0, 0, time.UTC)), EngineVersion: "1.4.3",
			LastScanInfected: 1}},
		{name: "none recent", since: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), want: agentapi.AVKioskFacts{}},
	}
	infectionsWant := map[string]int{"all recent": 6, "only the last": 1, "none recent": 0}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f agentapi.AVKioskFacts
			summarise(&f, scans, tt.since)
			if len(f.Infections) != infectionsWant[tt.name] {
				t.Errorf("%d infections %+v, want %d", len(f.Infections), f.Infections, infectionsWant[tt.name])
			}
			f.Infections = nil
			testutil.EqualJSON(t, f, tt.want)
		})
	}
}

func TestLastScanUnhandled(t *testing.T) {
	scans, err := parseScanLog(bytes.NewReader(testutil.Fixture(t, "clamscan-stdout-debian12.txt")), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var f agentapi.AVKioskFacts
	summarise(&f, scans, time.Time{})
	if f.Scans != 1 || f.FilesScanned != 2 || f.LastScanInfected != 1 || f.LastScanUnhandled != 1 {
		t.Errorf("got %+v, want 1 scan of 2 files with 1 infection left in place", f)
	}
}

func TestParseClamVersion(t *testing.T) {
	tests := []struct {
		out    string
		engine string
		sigs   int
		wantOK bool
	}{
		{string(testutil.Fixture(t, "clamscan-version-nodb.txt")), "1.4.3", 0, true},
		{"ClamAV 1.4.3/27830/Sat Nov 21 08:27:00 2026\n", "1.4.3", 27830, true},
		{"clamscan: command not found", "", 0, false},
	}
	for _, tt := range tests {
		engine, sigs, ok := parseClamVersion(tt.out)
		if engine != tt.engine || sigs != tt.sigs || ok != tt.wantOK {
			t.Errorf("parseClamVersion(%q) = %q %d %v, want %q %d %v", tt.out, engine, sigs, ok, tt.engine, tt.sigs, tt.wantOK)
		}
	}
}

func TestSampleConfig(t *testing.T) {
	raw, err := pluginapi.YAMLToJSON(sample)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(raw)
	if err != nil {
		t.Fatalf("sample.yaml does not load: %v", err)
	}
	if cfg.DatabaseDir != "/var/lib/clamav" || cfg.RecentDays != 30 || len(cfg.ScanLogs) != 1 {
		t.Errorf("sample loaded as %+v", cfg)
	}
	if _, err := loadConfig(json.RawMessage(`{"recent_days": 0}`)); err == nil {
		t.Error("recent_days 0 accepted")
	}
}
