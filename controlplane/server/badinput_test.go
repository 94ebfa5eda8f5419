package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

// TestBadInput checks that each kind of bad request gets its status and a
// JSON body naming what was wrong.
func TestBadInput(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	a := enrollSim(t, s, enrollToken(t, s, ""), "lp-bad")
	agentCred := a.cred
	adminTok := s.AdminToken()
	huge := `{"kind":"report","report":{"schema":1,"seq":1,"host":{"hostname":"` + strings.Repeat("x", 1<<20) + `"}}}`

	tests := []struct {
		name       string
		method     string
		path       string
		auth       string
		body       string
		wantStatus int
		wantDetail string
	}{
		{"malformed JSON", "POST", agentapi.PathCheckin, agentCred, `{"kind": "report", "report": {`, 400, "malformed JSON"},
		{"wrong type", "POST", agentapi.PathCheckin, agentCred, `{"kind": 7}`, 400, `field "kind"`},
		{"empty body", "POST", agentapi.PathCheckin, agentCred, ``, 400, "empty body"},
		{"trailing data", "POST", agentapi.PathCheckin, agentCred, `{"kind":"heartbeat","heartbeat":{"fingerprint":"x"}} {}`, 400, "after the JSON body"},
		{"unknown kind", "POST", agentapi.PathCheckin, agentCred, `{"kind":"gossip"}`, 400, `"gossip"`},
		{"report missing", "POST", agentapi.PathCheckin, agentCred, `{"kind":"report"}`, 400, "report: missing"},
		{"report without seq", "POST", agentapi.PathCheckin, agentCred, `{"kind":"report","report":{"schema":1,"fingerprint":"f","collected_at":"2026-01-01T00:00:00Z"}}`, 400, "seq"},
		{"body over 1 MiB", "POST", agentapi.PathCheckin, agentCred, huge, 413, "limit"},
		{"no credential", "POST", agentapi.PathCheckin, "", `{"kind":"heartbeat","heartbeat":{}}`, 401, "credential"},
		{"wrong credential", "POST", agentapi.PathCheckin, "pa_" + a.id + ".wrongsecretwrongsecretwrongsecre", `{"kind":"heartbeat","heartbeat":{}}`, 401, "credential"},
		{"garbage credential", "POST", agentapi.PathCheckin, "not a credential", `{}`, 401, "credential"},
		{"user token on the agent API", "POST", agentapi.PathCheckin, adminTok, `{"kind":"heartbeat","heartbeat":{}}`, 401, "credential"},
		{"agent credential on the admin API", "GET", adminapi.PathUnits, agentCred, ``, 401, "credential"},
		{"no token on the admin API", "GET", adminapi.PathUnits, "", ``, 401, "credential"},
		{"unknown unit", "GET", adminapi.PathUnits + "/nosuchunit", adminTok, ``, 404, "nosuchunit"},
		{"unit id with path tricks", "GET", adminapi.PathUnits + "/a%2F..%2Fb", adminTok, ``, 400, "unit id"},
		{"bad page size", "GET", adminapi.PathUnits + "?limit=0", adminTok, ``, 400, "limit"},
		{"unknown field on the admin API", "POST", adminapi.PathEnrollTokens, adminTok, `{"site":"a","colour":"red"}`, 400, "colour"},
		{"bad enroll token", "POST", agentapi.PathEnroll, "", `{"token":"pe_abc.def","hostname":"x"}`, 401, "enroll token"},
		{"enroll without hostname", "POST", agentapi.PathEnroll, "", `{"token":"pe_abc.def"}`, 400, "hostname"},
		{"not JSON", "POST", agentapi.PathEnroll, "", `token=x`, 415, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.path, bytes.NewBufferString(tt.body))
			if tt.name == "not JSON" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", "Bearer "+tt.auth)
			}
			resp, err := s.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body agentapi.ErrorResponse
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("status %d, body not the JSON error shape: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (body %+v)", resp.StatusCode, tt.wantStatus, body)
			}
			if body.Error == "" || !strings.Contains(body.Detail, tt.wantDetail) {
				t.Errorf("body %+v, want an error whose detail names %q", body, tt.wantDetail)
			}
		})
	}

	// None of it changed anything: the unit has no report, and the server is healthy.
	var u adminapi.Unit
	if code := s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+a.id, nil, &u); code != 200 || u.ReportSeq != 0 {
		t.Errorf("after bad input the unit is %+v (%d), want it untouched", u, code)
	}
}
