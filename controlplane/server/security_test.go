package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/state"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

// raw sends body with bearer cred and returns the status, the decoded
// error body (if any) and the response.
func raw(t *testing.T, s *servertest.Server, method, path, cred, body string) (int, agentapi.ErrorResponse, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var e agentapi.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e, resp
}

func TestAgentCannotReportAsAnother(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	token := enrollToken(t, s, "ecole-a")
	a := enrollSim(t, s, token, "lp-a")
	b := enrollSim(t, s, token, "lp-b")

	// A's own credential, with a report that names B every way JSON can:
	// fields the server does not know are dropped, the hostname is A's
	// business; the report lands on A.
	rep := &agentapi.Report{Schema: 1, Seq: 1, CollectedAt: time.Now().UTC(), Host: agentapi.HostFacts{Hostname: "lp-b", OS: "linux"}}
	rep.Fingerprint = rep.ComputeFingerprint()
	data, _ := json.Marshal(rep)
	body := `{"kind":"report","agent_id":"` + b.id + `","unit":"` + b.id + `","report":` +
		strings.Replace(string(data), `{`, `{"agent_id":"`+b.id+`","id":"`+b.id+`",`, 1) + `}`
	if code, e, _ := raw(t, s, http.MethodPost, agentapi.PathCheckin, a.cred, body); code != http.StatusOK {
		t.Fatalf("A's report: %d %+v", code, e)
	}
	var ua, ub adminapi.Unit
	s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+a.id, nil, &ua)
	s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+b.id, nil, &ub)
	if ua.ReportSeq != 1 || ub.ReportSeq != 0 || ub.Report != nil {
		t.Errorf("A's report claiming B: A has report %d, B has report %d; want it on A only", ua.ReportSeq, ub.ReportSeq)
	}

	// B's id with A's secret, and A's id with B's secret: refused.
	secret := func(cred string) string { return cred[strings.Index(cred, ".")+1:] }
	for _, cred := range []string{"pa_" + b.id + "." + secret(a.cred), "pa_" + a.id + "." + secret(b.cred)} {
		if code, _, _ := raw(t, s, http.MethodPost, agentapi.PathCheckin, cred, body); code != http.StatusUnauthorized {
			t.Errorf("mixed credential %s: %d, want 401", cred[:20], code)
		}
	}
	s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+b.id, nil, &ub)
	if ub.ReportSeq != 0 {
		t.Errorf("B got a report from someone else: %d", ub.ReportSeq)
	}
}

func TestEnrollmentPinsTheCA(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	token := enrollToken(t, s, "")
	tok, err := agentapi.ParseEnrollToken(token)
	if err != nil || tok.CAHash == "" {
		t.Fatalf("enroll token %q carries no CA hash (%v)", token, err)
	}
	ca, _ := os.ReadFile(s.CAFile())
	certs, _ := agentapi.ParseCertificates(ca)
	if agentapi.CAHash(certs[0]) != tok.CAHash {
		t.Fatalf("token's CA hash %s is not the hash of %s", tok.CAHash, s.CAFile())
	}
	// The CA endpoint is public.
	resp, err := s.HTTPClient().Get(s.URL + agentapi.PathCA)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", agentapi.PathCA, resp, err)
	}
	resp.Body.Close()

	// A token naming another CA (a machine in between answering with its
	// own) makes the agent stop before it sends the token.
	other := servertest.StartServer(t, servertest.Options{})
	forged := agentapi.EnrollToken{Credential: tok.Credential, CAHash: mustToken(t, enrollToken(t, other, "")).CAHash}.String()
	dir := t.TempDir()
	_, stderr, err := servertest.RunErr(t, nil, "parc-agent", "--server", s.URL, "--state-dir", dir, "--once", "--enroll-token", forged)
	if err == nil || !strings.Contains(stderr, "no CA certificate matches") {
		t.Errorf("agent with a token naming another CA: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, state.FileName)); err == nil {
		t.Error("the agent enrolled anyway")
	}
	var list adminapi.EnrollTokenList
	s.Admin(t, http.MethodGet, adminapi.PathEnrollTokens, nil, &list)
	if len(list.Tokens) != 1 || list.Tokens[0].Uses != 0 {
		t.Errorf("the token was used: %+v", list.Tokens)
	}
	// A pinned token over plain http is a downgrade: refused.
	_, stderr, err = servertest.RunErr(t, nil, "parc-agent", "--server", strings.Replace(s.URL, "https:", "http:", 1), "--state-dir", t.TempDir(), "--once", "--enroll-token", token)
	if err == nil || !strings.Contains(stderr, "not https") {
		t.Errorf("pinned token over http: %v\n%s", err, stderr)
	}
	// The right token enrolls, and the agent keeps the CA.
	servertest.Run(t, nil, "parc-agent", "--server", s.URL, "--state-dir", dir, "--once", "--enroll-token", token)
	if got, _ := os.ReadFile(filepath.Join(dir, state.CAFile)); !bytes.Equal(got, ca) {
		t.Error("the agent did not keep the server's CA")
	}
	// A plain client, trusting the system's roots, is refused by TLS.
	if _, err := http.Get(s.URL + "/healthz"); err == nil {
		t.Error("the server's certificate passed without its CA")
	}
}

func mustToken(t *testing.T, s string) agentapi.EnrollToken {
	t.Helper()
	tok, err := agentapi.ParseEnrollToken(s)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestServerRefusesKeysOthersCanRead(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	s.Stop(30 * time.Second)
	os.Chmod(filepath.Join(s.DataDir, "server.key"), 0o644)
	_, stderr, err := servertest.RunErr(t, nil, "parc-server", s.Args...)
	if err == nil || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("server with a key others can read: %v\n%s", err, stderr)
	}
}

func TestInsecureHTTP(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{InsecureHTTP: true})
	if !strings.HasPrefix(s.URL, "http://") || !strings.Contains(s.Logs(), "plain HTTP") {
		t.Fatalf("URL %s, log:\n%s", s.URL, s.Logs())
	}
	token := enrollToken(t, s, "")
	if strings.Contains(token, "@") {
		t.Errorf("token %q names a CA the server does not have", token)
	}
	servertest.Run(t, nil, "parc-agent", "--server", s.URL, "--state-dir", t.TempDir(), "--once", "--enroll-token", token)
}

func TestRotationAndRevocationWithTheAgent(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	token := enrollToken(t, s, "ecole-r")
	dir := t.TempDir()
	args := []string{"--server", s.URL, "--state-dir", dir, "--once"}
	servertest.Run(t, nil, "parc-agent", append(args, "--enroll-token", token)...)
	st0, _ := state.Load(dir)

	// An administrator asks for a rotation; the agent's next check-in does it.
	servertest.Run(t, env, "parcctl", "agents", "rotate", st0.AgentID)
	_, stderr, err := servertest.RunErr(t, nil, "parc-agent", args...)
	st1, _ := state.Load(dir)
	if err != nil || !strings.Contains(stderr, "credential rotated") || st1.Credential == st0.Credential || st1.PendingCredential != "" {
		t.Fatalf("rotation: %v, credential changed %v, pending %q\n%s", err, st1.Credential != st0.Credential, st1.PendingCredential, stderr)
	}
	hb := `{"kind":"heartbeat","heartbeat":{"fingerprint":"x"}}`
	if code, _, _ := raw(t, s, http.MethodPost, agentapi.PathCheckin, st0.Credential, hb); code != http.StatusUnauthorized {
		t.Errorf("old credential after rotation: %d", code)
	}
	if code, _, _ := raw(t, s, http.MethodPost, agentapi.PathCheckin, st1.Credential, hb); code != http.StatusOK {
		t.Errorf("new credential: %d", code)
	}

	// A crash between saving the rotated credential and confirming it:
	// the next run confirms it.
	c, _ := client.New(s.URL, s.HTTPClient(), "test")
	c.SetCredential(st1.Credential)
	rot, err := c.RotateCredential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := raw(t, s, http.MethodPost, agentapi.PathCheckin, st1.Credential, hb); code != http.StatusOK {
		t.Errorf("current credential while a rotation awaits confirmation: %d", code)
	}
	crashed := st1
	crashed.PendingCredential = rot.Credential
	crashed.Save(dir)
	servertest.Run(t, nil, "parc-agent", args...)
	if st2, _ := state.Load(dir); st2.Credential != rot.Credential || st2.PendingCredential != "" {
		t.Errorf("after a crash before confirming: credential is the rotated one %v, pending %q", st2.Credential == rot.Credential, st2.PendingCredential)
	}

	// Stolen: revoked. The agent is refused and does not come back with
	// its old enroll token; with a new one it enrolls as a new agent.
	servertest.Run(t, env, "parcctl", "agents", "revoke", st0.AgentID, "--reason", "stolen")
	_, stderr, err = servertest.RunErr(t, nil, "parc-agent", append(args, "--enroll-token", token)...)
	if err == nil || !strings.Contains(stderr, "revoked") || !strings.Contains(stderr, "new enroll token") {
		t.Errorf("revoked agent: %v\n%s", err, stderr)
	}
	code, e, resp := raw(t, s, http.MethodPost, agentapi.PathCheckin, rot.Credential, hb)
	if code != http.StatusUnauthorized || !strings.Contains(e.Detail, "revoked") || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("revoked credential: %d %+v %v", code, e, resp.Header)
	}
	newToken := enrollToken(t, s, "ecole-r")
	servertest.Run(t, nil, "parc-agent", append(args, "--enroll-token", newToken)...)
	st3, _ := state.Load(dir)
	// The new identity's report is acknowledged; report numbers go on
	// from the old identity's, so that spooled reports keep theirs.
	if st3.AgentID == st0.AgentID || st3.AckedSeq == 0 || st3.AckedSeq != st3.LastSeq {
		t.Errorf("re-enrolled as %s (was %s), acked %d of %d", st3.AgentID, st0.AgentID, st3.AckedSeq, st3.LastSeq)
	}

	// All of it is in the audit log, with who did it.
	out := servertest.Run(t, env, "parcctl", "audit", "--object", "agent/"+st0.AgentID, "-o", "json")
	var entries []adminapi.AuditEntry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "agent.enroll,agent.rotate-request,agent.revoke" {
		t.Errorf("audit of the agent: %v", actions)
	}
	last := entries[len(entries)-1]
	var before, after adminapi.AgentCredential
	json.Unmarshal(last.Before, &before)
	json.Unmarshal(last.After, &after)
	if last.Detail != "stolen" || !strings.HasPrefix(last.Actor, "user:") || before.Revoked || !after.Revoked || after.RevokeReason != "stolen" {
		t.Errorf("revocation entry %+v", last)
	}
}

func TestTokensAndRoles(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	tech := strings.TrimSpace(servertest.Run(t, env, "parcctl", "tokens", "create", "--name", "jdoe", "--role", "technician", "--quiet"))
	if !strings.HasPrefix(tech, "pu_") {
		t.Fatalf("token %q", tech)
	}
	list := servertest.Run(t, env, "parcctl", "tokens", "list")
	if !strings.Contains(list, "jdoe") || !strings.Contains(list, "technician") || strings.Contains(list, tech[strings.Index(tech, ".")+1:]) {
		t.Errorf("tokens list:\n%s", list)
	}
	techEnv := []string{"PARC_SERVER=" + s.URL, "PARC_TOKEN=" + tech, "PARC_CA_FILE=" + s.CAFile()}
	servertest.Run(t, techEnv, "parcctl", "units", "list")
	if _, stderr, err := servertest.RunErr(t, techEnv, "parcctl", "tokens", "list"); err == nil || !strings.Contains(stderr, "403") {
		t.Errorf("technician listing tokens: %v %s", err, stderr)
	}
	if _, stderr, err := servertest.RunErr(t, techEnv, "parcctl", "audit"); err == nil || !strings.Contains(stderr, "403") {
		t.Errorf("technician reading the audit log: %v %s", err, stderr)
	}
	// Revoked: refused at once.
	var toks adminapi.TokenList
	s.Admin(t, http.MethodGet, adminapi.PathTokens, nil, &toks)
	var techID, adminID string
	for _, tk := range toks.Tokens {
		if tk.Name == "jdoe" {
			techID = tk.ID
		} else {
			adminID = tk.ID
		}
	}
	servertest.Run(t, env, "parcctl", "tokens", "revoke", techID)
	if _, stderr, err := servertest.RunErr(t, techEnv, "parcctl", "units", "list"); err == nil || !strings.Contains(stderr, "401") {
		t.Errorf("revoked token: %v %s", err, stderr)
	}
	// The last admin token stays.
	if _, stderr, err := servertest.RunErr(t, env, "parcctl", "tokens", "revoke", adminID); err == nil || !strings.Contains(stderr, "last valid admin token") {
		t.Errorf("revoking the last admin token: %v %s", err, stderr)
	}
	// Strict admin API: a misspelt field, a bad role, a name too long.
	for body, want := range map[string]string{
		`{"name":"x","role":"viewer","rol":"admin"}`:                  "rol",
		`{"name":"x","role":"root"}`:                                  "role",
		`{"name":"` + strings.Repeat("n", 200) + `","role":"viewer"}`: "name",
		`{"name":"x\u0007","role":"viewer"}`:                          "control character",
		`{"name":"x","role":"viewer","ttl":"-5h"}`:                    "ttl",
	} {
		if code, e, _ := raw(t, s, http.MethodPost, adminapi.PathTokens, s.AdminToken(), body); code != 400 || !strings.Contains(e.Detail, want) {
			t.Errorf("%s: %d %+v, want 400 naming %s", body, code, e, want)
		}
	}
	// Both changes are in the audit log, and no secret is.
	out := servertest.Run(t, env, "parcctl", "audit", "--action", "token", "-o", "json")
	if !strings.Contains(out, `"token.create"`) || !strings.Contains(out, `"token.revoke"`) || strings.Contains(out, tech[3:]) || strings.Contains(out, "hash") {
		t.Errorf("audit of tokens:\n%s", out)
	}
}

func TestEnrollTokenRevocation(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	token := enrollToken(t, s, "ecole-t")
	id := mustToken(t, token).ID()
	servertest.Run(t, env, "parcctl", "enroll-token", "revoke", id)
	if out := servertest.Run(t, env, "parcctl", "enroll-token", "list"); !strings.Contains(out, id) || !strings.Contains(out, "revoked") {
		t.Errorf("enroll-token list:\n%s", out)
	}
	_, stderr, err := servertest.RunErr(t, nil, "parc-agent", "--server", s.URL, "--state-dir", t.TempDir(), "--once", "--enroll-token", token)
	if err == nil || !strings.Contains(stderr, "revoked") {
		t.Errorf("enrolling with a revoked token: %v\n%s", err, stderr)
	}
}

func TestRateLimit(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{Args: []string{"--rate-limit-user", "0.5", "--rate-limit-user-burst", "3"}})
	var codes []int
	var last *http.Response
	for range 5 {
		code, _, resp := raw(t, s, http.MethodGet, adminapi.PathUnits, s.AdminToken(), "")
		codes = append(codes, code)
		last = resp
	}
	if codes[0] != 200 || codes[2] != 200 || codes[3] != http.StatusTooManyRequests || codes[4] != http.StatusTooManyRequests {
		t.Errorf("statuses %v, want 3 × 200 then 429", codes)
	}
	if ra := last.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2 (one token every 2s)", ra)
	}
}
