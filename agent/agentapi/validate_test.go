package agentapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Report)
		wantErr string
	}{
		{"valid", func(*Report) {}, ""},
		{"no schema", func(r *Report) { r.Schema = 0 }, "schema"},
		{"no seq", func(r *Report) { r.Seq = 0 }, "seq"},
		{"no fingerprint", func(r *Report) { r.Fingerprint = "" }, "fingerprint"},
		{"long fingerprint", func(r *Report) { r.Fingerprint = strings.Repeat("f", 65) }, "fingerprint"},
		{"no collection time", func(r *Report) { r.CollectedAt = time.Time{} }, "collected_at"},
		{"long hostname", func(r *Report) { r.Host.Hostname = strings.Repeat("h", MaxStringLen+1) }, "report.host.hostname"},
		{"too many disks", func(r *Report) { r.Host.Disks = make([]Disk, MaxListLen+1) }, "report.host.disks"},
		{"long nested string", func(r *Report) {
			r.Updates = &UpdatesFacts{Packages: []string{"ok", strings.Repeat("p", MaxStringLen+1)}}
		}, "report.updates.packages[1]"},
		{"extra fact nested too deep", func(r *Report) {
			r.Extra = map[string]json.RawMessage{"deep": json.RawMessage(strings.Repeat("[", MaxFactDepth+1) + strings.Repeat("]", MaxFactDepth+1))}
		}, "extra.deep"},
		{"extra fact nested, brackets in strings", func(r *Report) {
			r.Extra = map[string]json.RawMessage{"ok": json.RawMessage(`{"s":"` + strings.Repeat("[", 100) + `\"[[["}`)}
		}, ""},
		{"link valid", func(r *Report) { r.Link = goodLink() }, ""},
		{"link no time", func(r *Report) { r.Link = goodLink(); r.Link.MeasuredAt = time.Time{} }, "link.measured_at"},
		{"link unknown method", func(r *Report) { r.Link = goodLink(); r.Link.Targets[0].Method = "udp" }, "link.targets[0].method"},
		{"link more received than sent", func(r *Report) { r.Link = goodLink(); r.Link.Targets[1].Received = 5 }, "link.targets[1].received"},
		{"link negative sent", func(r *Report) { r.Link = goodLink(); r.Link.Targets[0].Sent = -1 }, "link.targets[0].sent"},
		{"link loss over 1", func(r *Report) { r.Link = goodLink(); r.Link.Targets[0].Loss = 1.5 }, "link.targets[0].loss"},
		{"link negative rtt", func(r *Report) { r.Link = goodLink(); r.Link.Targets[0].RTTMs = -3 }, "link.targets[0].rtt_ms"},
		{"link negative download", func(r *Report) { r.Link = goodLink(); r.Link.DownloadMbps = -1 }, "link.download_mbps"},
		{"link long target", func(r *Report) {
			r.Link = goodLink()
			r.Link.Targets[0].Target = strings.Repeat("t", MaxStringLen+1)
		}, "report.link.targets[0].target"},
		{"too many extra facts", func(r *Report) {
			r.Extra = map[string]json.RawMessage{}
			for i := range MaxExtraFacts + 1 {
				r.Extra[strings.Repeat("k", i+1)] = json.RawMessage(`1`)
			}
		}, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseReport()
			r.Fingerprint = r.ComputeFingerprint()
			tt.change(&r)
			err := r.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func goodLink() *LinkFacts {
	return &LinkFacts{MeasuredAt: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), DownloadMbps: 94.5,
		Targets: []LinkTarget{
			{Target: "parc.example.org:443", Method: ProbeTCP, Sent: 4, Received: 4, RTTMs: 12.5},
			{Target: "192.0.2.1", Method: ProbeICMP, Sent: 4, Received: 3, RTTMs: 20, Loss: 0.25},
		}}
}
