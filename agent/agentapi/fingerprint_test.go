package agentapi

import (
	"testing"
	"time"
)

func baseReport() Report {
	return Report{
		Schema: SchemaVersion, Seq: 3, CollectedAt: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), Fingerprint: "old",
		Host: HostFacts{Hostname: "lp-0042", OS: "windows", UptimeSeconds: 3600, MemoryBytes: 8 << 30,
			Disks: []Disk{{Mount: "C:", TotalBytes: 256 << 30, FreeBytes: 100<<30 + 512<<20}}},
		Battery: &BatteryFacts{Batteries: []Battery{{Name: "BAT0", ChargePercent: 81, HealthPercent: 90}}},
	}
}

func TestFingerprint(t *testing.T) {
	base := baseReport()
	want := base.ComputeFingerprint()
	tests := []struct {
		name   string
		change func(*Report)
		same   bool
	}{
		{"sequence number", func(r *Report) { r.Seq = 99 }, true},
		{"collection time", func(r *Report) { r.CollectedAt = r.CollectedAt.Add(time.Hour) }, true},
		{"previous fingerprint", func(r *Report) { r.Fingerprint = "new" }, true},
		{"uptime", func(r *Report) { r.Host.UptimeSeconds = 7200 }, true},
		{"a few MB written", func(r *Report) { r.Host.Disks[0].FreeBytes -= 50 << 20 }, true},
		{"battery drained 1%", func(r *Report) { r.Battery.Batteries[0].ChargePercent = 80.5 }, true},
		{"battery charged 10%", func(r *Report) { r.Battery.Batteries[0].ChargePercent = 95 }, false},
		{"disk filled by 2 GiB", func(r *Report) { r.Host.Disks[0].FreeBytes -= 2 << 30 }, false},
		{"battery worn", func(r *Report) { r.Battery.Batteries[0].HealthPercent = 70 }, false},
		{"memory added", func(r *Report) { r.Host.MemoryBytes = 16 << 30 }, false},
		{"updates appeared", func(r *Report) { r.Updates = &UpdatesFacts{Pending: 3} }, false},
		{"a collector failed", func(r *Report) { r.Errors = []FactError{{Source: "plugin updates", Message: "timed out"}} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseReport()
			tt.change(&r)
			got := r.ComputeFingerprint()
			if (got == want) != tt.same {
				t.Errorf("fingerprint changed = %v, want changed = %v", got != want, !tt.same)
			}
		})
	}
	// Computing it leaves the report as it was.
	r := baseReport()
	r.ComputeFingerprint()
	if r.Host.Disks[0].FreeBytes != base.Host.Disks[0].FreeBytes || r.Battery.Batteries[0].ChargePercent != 81 || r.Seq != 3 {
		t.Errorf("ComputeFingerprint modified the report: %+v", r)
	}
}
