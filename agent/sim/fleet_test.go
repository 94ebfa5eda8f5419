package sim

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

func TestReadFleet(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		units   int
		wantErr []string
	}{
		{"serial only", "serial\nA1\nA2\n", 2, nil},
		{"bom and all columns", "\ufeffasset_tag,serial,battery_health,charge_percent,download_mbps,pending_security_updates\nLP-1,S1,61,50,6.5,2\n", 1, nil},
		{"no serial column", "asset_tag\nLP-1\n", 0, []string{"no serial column"}},
		{"unknown column", "serial,colour\nS1,red\n", 0, []string{`unknown column "colour"`}},
		{"every bad line named", "serial,battery_health,download_mbps\nS1,abc,\n,80,\nS1,80,-3\n", 0,
			[]string{"line 2: battery_health", "line 3: serial is empty", "line 4: serial S1 already on line 2", "download_mbps \"-3\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, err := ReadFleet(strings.NewReader(tt.in))
			if len(tt.wantErr) == 0 {
				if err != nil || len(units) != tt.units {
					t.Fatalf("got %d units, err %v; want %d", len(units), err, tt.units)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// The example fleet is what the README's coordinator walkthrough reports.
func TestExampleFleet(t *testing.T) {
	f, err := os.Open("../../configs/examples/fleet.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	units, err := ReadFleet(f)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	byTag := map[string]FleetUnit{}
	for _, u := range units {
		byTag[u.AssetTag] = u
	}
	var r agentapi.Report
	byTag["LP-0003"].Apply(&r, now)
	if b := r.Battery.Batteries[0]; b.HealthPercent != 61 || b.FullChargeCapacity != 51000*0.61 || r.Host.Serial != "PF3A0003" {
		t.Errorf("LP-0003: battery %+v serial %s", b, r.Host.Serial)
	}
	r = agentapi.Report{}
	byTag["LP-0005"].Apply(&r, now)
	if r.Updates.PendingSecurity != 3 || r.Bandwidth.DownloadMbps != 42 {
		t.Errorf("LP-0005: updates %+v bandwidth %v", r.Updates, r.Bandwidth.DownloadMbps)
	}
}

func FuzzReadFleet(f *testing.F) {
	f.Add("serial,battery_health\nS1,80\n")
	f.Add("\ufeffasset_tag,serial,download_mbps\nLP,S,1e308\n")
	f.Add("serial\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		units, err := ReadFleet(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, u := range units {
			if u.Serial == "" || u.BatteryHealth < 0 || u.DownloadMbps < 0 {
				t.Fatalf("accepted a bad unit %+v", u)
			}
			r := agentapi.Report{Schema: agentapi.SchemaVersion, Seq: 1, CollectedAt: time.Now()}
			u.Apply(&r, time.Now())
			r.Fingerprint = r.ComputeFingerprint()
			if err := r.Validate(); err != nil {
				t.Fatalf("unit %+v gives an invalid report: %v", u, err)
			}
		}
	})
}
