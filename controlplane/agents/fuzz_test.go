package agents

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/httpapi"
)

// checkDecodeCheckin is the property both check-in fuzzers hold the
// server's decoding to: it never panics; a refusal is a 400, 413 or 415
// with an explanation; what it accepts is valid, within bounds, UTF-8, and
// survives a round trip through JSON unchanged (so what is stored is what
// was checked).
func checkDecodeCheckin(t *testing.T, body []byte) {
	r := httptest.NewRequest(http.MethodPost, agentapi.PathCheckin, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	req, err := decodeCheckin(httptest.NewRecorder(), r)
	if err != nil {
		var he *httpapi.Error
		if !errors.As(err, &he) {
			t.Fatalf("error %v is not an *httpapi.Error", err)
		}
		switch he.Status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("status %d for a bad body", he.Status)
		}
		if he.Detail == "" || len(he.Detail) > 4096 {
			t.Fatalf("detail of %d bytes: %q", len(he.Detail), he.Detail)
		}
		return
	}
	if len(body) > agentapi.MaxBodyBytes || !utf8.Valid(body) {
		t.Fatalf("accepted a body of %d bytes, UTF-8 %v", len(body), utf8.Valid(body))
	}
	if err := req.Validate(); err != nil {
		t.Fatalf("accepted an invalid check-in: %v", err)
	}
	switch req.Kind {
	case agentapi.KindReport:
		again := roundTrip(t, req.Report)
		if err := again.Validate(); err != nil {
			t.Fatalf("report valid, invalid after a JSON round trip: %v", err)
		}
		if again.ComputeFingerprint() != req.Report.ComputeFingerprint() {
			t.Fatal("fingerprint changed across a JSON round trip")
		}
	case agentapi.KindHeartbeat:
		if len(req.Heartbeat.Fingerprint) > agentapi.MaxFingerprintLn {
			t.Fatalf("heartbeat fingerprint of %d bytes accepted", len(req.Heartbeat.Fingerprint))
		}
	default:
		t.Fatalf("kind %q accepted", req.Kind)
	}
}

func roundTrip(t *testing.T, r *agentapi.Report) *agentapi.Report {
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("an accepted report does not encode: %v", err)
	}
	var again agentapi.Report
	if err := json.Unmarshal(data, &again); err != nil {
		t.Fatalf("an accepted report does not decode again: %v", err)
	}
	return &again
}

// FuzzCheckinReport: full reports, as the agent API decodes and checks
// them. Seeds in testdata/fuzz/FuzzCheckinReport.
func FuzzCheckinReport(f *testing.F) {
	f.Add([]byte(`{"kind":"report","report":{"schema":1,"seq":1,"collected_at":"2026-09-01T08:00:00Z","fingerprint":"ab","host":{"hostname":"lp-01","os":"linux"}}}`))
	f.Add([]byte(`{"kind":"report","report":{"schema":1,"seq":1,"collected_at":"2026-09-01T08:00:00Z","fingerprint":"ab","host":{"hostname":"kiosk-01","os":"linux"},"link":{"measured_at":"2026-09-01T08:00:00Z","targets":[{"target":"10.0.0.1:443","method":"tcp","sent":4,"received":3,"rtt_ms":8,"loss":0.25}]}}}`))
	f.Fuzz(checkDecodeCheckin)
}

// FuzzCheckinHeartbeat: heartbeats. Seeds in
// testdata/fuzz/FuzzCheckinHeartbeat.
func FuzzCheckinHeartbeat(f *testing.F) {
	f.Add([]byte(`{"kind":"heartbeat","heartbeat":{"fingerprint":"0123456789abcdef","sent_at":"2026-09-01T08:00:00Z"}}`))
	f.Fuzz(checkDecodeCheckin)
}
