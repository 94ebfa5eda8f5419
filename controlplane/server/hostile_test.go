package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// hostile is one request the server must refuse without changing
// anything.
type hostile struct {
	what    string
	method  string
	path    string
	cred    string
	ctype   string // "" means application/json
	headers map[string]string
	body    []byte
}

// TestHostileRequests sends a few thousand malformed, oversized and
// hostile requests to a running server, with a handful of valid ones in
// between, then checks that the server is healthy and that etcd holds
// exactly what it held before plus what the valid requests wrote. Left out
// of the comparison is what moves by itself: last-seen times (every
// heartbeat), and what the reconciler derives from the rest and the clock
// (statuses, summaries, its election).
func TestHostileRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("sends thousands of requests")
	}
	// No rate limits: the test is about what gets through the decoding and
	// the checks, not about throttling (TestRateLimit).
	s := servertest.StartServer(t, servertest.Options{Args: []string{"--rate-limit-agent", "0", "--rate-limit-user", "0", "--lastseen-flush-interval", "200ms"}})
	ctx := context.Background()

	// Some state to protect: agents with reports, tokens of every sort.
	token := enrollToken(t, s, "ecole-h")
	a := enrollSim(t, s, token, "lp-a")
	b := enrollSim(t, s, token, "lp-b")
	gone := enrollSim(t, s, token, "lp-gone")
	for _, sim := range []*simAgent{a, b, gone} {
		if _, _, err := sim.report(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	if code := s.Admin(t, http.MethodPost, adminapi.PathAgents+"/"+gone.id+"/revoke", adminapi.RevokeRequest{Reason: "retired"}, nil); code != 200 {
		t.Fatalf("revoking: %d", code)
	}
	var single adminapi.EnrollToken
	s.Admin(t, http.MethodPost, adminapi.PathEnrollTokens, adminapi.EnrollTokenRequest{MaxUses: 1}, &single)
	enrollSim(t, s, single.Token, "lp-single") // uses it up
	var revokedTok adminapi.EnrollToken
	s.Admin(t, http.MethodPost, adminapi.PathEnrollTokens, adminapi.EnrollTokenRequest{}, &revokedTok)
	s.Admin(t, http.MethodDelete, adminapi.PathEnrollTokens+"/"+revokedTok.ID, nil, nil)
	var viewer adminapi.Token
	s.Admin(t, http.MethodPost, adminapi.PathTokens, adminapi.TokenRequest{Name: "viewer", Role: "viewer"}, &viewer)

	cli := servertest.Client(t, s.EtcdClientURL)
	before := dump(t, cli)

	requests := hostileRequests(a, b, gone, s.AdminToken(), viewer.Token, token, single.Token, revokedTok.Token)
	if len(requests) < 2000 {
		t.Fatalf("only %d hostile requests generated", len(requests))
	}

	// The client does not follow redirects: ServeMux answers paths with
	// ".." by a redirect to the cleaned path, and that answer is the
	// refusal to check.
	hc := *s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var mu sync.Mutex
	var accepted, serverErrors []string
	statuses := map[int]int{}
	jobs := make(chan hostile)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range jobs {
				code := send(t, &hc, s.URL, h)
				mu.Lock()
				statuses[code]++
				switch {
				case code >= 500:
					serverErrors = append(serverErrors, fmt.Sprintf("%s: %d", h.what, code))
				case code < 300:
					accepted = append(accepted, fmt.Sprintf("%s: %d", h.what, code))
				}
				mu.Unlock()
			}
		}()
	}

	// The valid requests, in between: A's next reports in order, B's
	// heartbeats. They must be accepted, and are all that may change.
	validDone := make(chan []*agentapi.Report)
	go func() {
		var sent []*agentapi.Report
		for n := range 5 {
			time.Sleep(50 * time.Millisecond)
			resp, r, err := a.report(ctx, n+1)
			if err != nil || !resp.Accepted || resp.Seq != r.Seq {
				t.Errorf("valid report %d during the barrage: %+v %v", r.Seq, resp, err)
			}
			sent = append(sent, r)
			if _, err := b.client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindHeartbeat,
				Heartbeat: &agentapi.Heartbeat{Fingerprint: "whatever", SentAt: time.Now()}}); err != nil {
				t.Errorf("valid heartbeat during the barrage: %v", err)
			}
		}
		validDone <- sent
	}()
	start := time.Now()
	for _, h := range requests {
		jobs <- h
	}
	close(jobs)
	wg.Wait()
	sent := <-validDone
	t.Logf("%d hostile requests in %s; statuses %v", len(requests), time.Since(start).Round(time.Millisecond), statuses)

	if len(serverErrors) > 0 {
		t.Errorf("%d hostile requests got a 5xx, e.g. %v", len(serverErrors), serverErrors[:min(10, len(serverErrors))])
	}
	if len(accepted) > 0 {
		t.Errorf("%d hostile requests were accepted, e.g. %v", len(accepted), accepted[:min(10, len(accepted))])
	}

	// Healthy: probes, an admin call, an agent call.
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, _ := raw(t, s, http.MethodGet, p, "", ""); code != 200 {
			t.Errorf("%s after the barrage: %d", p, code)
		}
	}
	var units adminapi.UnitList
	if code := s.Admin(t, http.MethodGet, adminapi.PathUnits, nil, &units); code != 200 || len(units.Units) == 0 {
		t.Errorf("units after the barrage: %d, %d units", code, len(units.Units))
	}
	if strings.Contains(s.Logs(), "panic") {
		t.Errorf("the server log mentions a panic:\n%s", s.Logs())
	}

	// etcd: before, plus A's five reports.
	after := dump(t, cli)
	want := map[string]string{}
	for k, v := range before {
		want[k] = v
	}
	for _, r := range sent {
		want[fmt.Sprintf("/parc/v1/reportlog/%s/%020d", a.id, r.Seq)] = "(a receipt)"
	}
	observedKey := "/parc/v1/observed/" + a.id
	want[observedKey] = "(the last report)"
	var diffs []string
	for k, v := range after {
		w, ok := want[k]
		switch {
		case !ok:
			diffs = append(diffs, "added "+k)
		case w == "(a receipt)":
		case k == observedKey:
			var obs struct{ Report agentapi.Report }
			json.Unmarshal([]byte(v), &obs)
			last := sent[len(sent)-1]
			if obs.Report.Seq != last.Seq || obs.Report.Fingerprint != last.Fingerprint || !reflect.DeepEqual(obs.Report.Host, last.Host) {
				diffs = append(diffs, fmt.Sprintf("%s holds report %d, want the last valid one, %d", k, obs.Report.Seq, last.Seq))
			}
		case w != v:
			diffs = append(diffs, "changed "+k)
		}
	}
	for k := range want {
		if _, ok := after[k]; !ok {
			diffs = append(diffs, "removed "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("etcd is not what it was plus the valid requests:\n  %s", strings.Join(diffs, "\n  "))
	}
}

// moving are the key prefixes whose values change by themselves.
var moving = []string{
	"/parc/v1/" + store.KindLastSeen + "/",
	"/parc/v1/" + reconcile.KindStatus + "/",
	"/parc/v1/" + reconcile.KindSummaries + "/",
	"/parc/v1/election/",
}

// dump reads every key under /parc/ but the moving ones.
func dump(t *testing.T, cli *clientv3.Client) map[string]string {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/parc/", clientPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		if !slices.ContainsFunc(moving, func(p string) bool { return strings.HasPrefix(string(kv.Key), p) }) {
			out[string(kv.Key)] = string(kv.Value)
		}
	}
	return out
}

func send(t *testing.T, hc *http.Client, base string, h hostile) int {
	req, err := http.NewRequest(h.method, base+h.path, bytes.NewReader(h.body))
	if err != nil {
		// A request Go itself refuses to build never reaches the server.
		return http.StatusBadRequest
	}
	ct := h.ctype
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if h.cred != "" {
		req.Header.Set("Authorization", "Bearer "+h.cred)
	}
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The server may close a connection on a request it will not read
		// (headers too large); that is a refusal too.
		return http.StatusBadRequest
	}
	resp.Body.Close()
	return resp.StatusCode
}

// hostileRequests builds the barrage: for each target, each kind of
// hostility, and random mutations of valid bodies, seeded so a failure
// reproduces.
func hostileRequests(a, b, gone *simAgent, adminTok, viewerTok, goodEnroll, usedUpEnroll, revokedEnroll string) []hostile {
	rng := rand.New(rand.NewPCG(7, 7))
	var out []hostile
	add := func(h hostile) { out = append(out, h) }
	secretOf := func(c string) string { return c[strings.Index(c, ".")+1:] }

	validReport := func(seq uint64) map[string]any {
		r := agentapi.Report{Schema: 1, Seq: seq, CollectedAt: time.Now().UTC(), Fingerprint: "f",
			Host: agentapi.HostFacts{Hostname: "lp-a", OS: "linux", CPUCores: 4, MemoryBytes: 1 << 33,
				Disks:      []agentapi.Disk{{Mount: "/", TotalBytes: 1 << 40, FreeBytes: 1 << 39}},
				Interfaces: []agentapi.Interface{{Name: "eth0", MAC: "aa:bb:cc:dd:ee:ff", Up: true}}},
			Battery: &agentapi.BatteryFacts{Batteries: []agentapi.Battery{{Name: "BAT0", CapacityUnit: "mWh", DesignCapacity: 50000, CycleCount: 3}}},
			Updates: &agentapi.UpdatesFacts{Manager: "apt", Pending: 2, Packages: []string{"openssl"}}}
		data, _ := json.Marshal(r)
		var m map[string]any
		json.Unmarshal(data, &m)
		return m
	}
	checkin := func(report any) []byte {
		data, _ := json.Marshal(map[string]any{"kind": "report", "report": report})
		return data
	}

	// Credentials that must not pass, on the agent API and the admin API.
	badCreds := map[string]string{
		"none": "", "garbage": "hello", "basic": "dXNlcjpwYXNz", "empty id": "pa_.x", "uppercase": strings.ToUpper(a.cred),
		"wrong secret": "pa_" + a.id + "." + strings.Repeat("a", 32), "B's id A's secret": "pa_" + b.id + "." + secretOf(a.cred),
		"revoked agent": gone.cred, "user token": adminTok, "enroll token": goodEnroll, "unknown agent": "pa_zzzzzzzzzzzzzzzz." + strings.Repeat("b", 32),
		"huge": "pa_" + strings.Repeat("a", 8000) + ".x", "path in id": "pa_../../x.y", "nul": "pa_ab\x00c.d",
	}
	okReport := checkin(validReport(100))
	for name, cred := range badCreds {
		for i := range 10 {
			add(hostile{what: "checkin with " + name, method: "POST", path: agentapi.PathCheckin, cred: cred, body: okReport})
			add(hostile{what: "rotate with " + name, method: "POST", path: agentapi.PathCredentialRotate, cred: cred, body: []byte("{}")})
			add(hostile{what: "confirm with " + name, method: "POST", path: agentapi.PathCredentialConfirm, cred: cred, body: []byte("{}")})
			if cred != adminTok {
				add(hostile{what: "admin list with " + name, method: "GET", path: adminapi.PathUnits, cred: cred})
				add(hostile{what: "admin create token with " + name, method: "POST", path: adminapi.PathTokens, cred: cred,
					body: []byte(`{"name":"x","role":"admin"}`)})
			}
			_ = i
		}
	}
	// Wrong credential kinds in the Authorization header itself.
	for _, h := range []string{"Basic " + a.cred, "Bearer", "Bearer  ", "bearer" + a.cred, strings.Repeat("Bearer ", 100), "Bearer " + a.cred + " extra"} {
		add(hostile{what: "authorization " + h[:min(len(h), 20)], method: "POST", path: agentapi.PathCheckin, headers: map[string]string{"Authorization": h}, body: okReport})
	}

	// Wrong types, field by field, on A's own valid credential: decoding
	// must refuse each.
	typed := map[string][]string{
		"":        {"schema", "seq", "collected_at", "host"},
		"host":    {"hostname", "cpu_cores", "memory_bytes", "disks", "interfaces", "uptime_seconds", "boot_time"},
		"battery": {"batteries"},
		"updates": {"pending", "packages", "reboot_required"},
	}
	for parent, fields := range typed {
		for _, f := range fields {
			for _, w := range []any{"a string", 7.5, []any{1, 2}, map[string]any{"x": 1}, true} {
				r := validReport(200)
				target := r
				if parent != "" {
					target = r[parent].(map[string]any)
				}
				if reflect.TypeOf(target[f]) == reflect.TypeOf(w) {
					continue // a value of the field's own JSON kind is not a type error
				}
				if _, isString := target[f].(string); isString && f != "hostname" {
					continue // times are strings; another string is a parse error, tested below
				}
				target[f] = w
				for range 3 {
					add(hostile{what: fmt.Sprintf("report %s.%s = %v", parent, f, w), method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: checkin(r)})
				}
			}
		}
	}
	// Numbers no Go integer (or this one, unsigned) holds, in the raw text.
	for _, n := range []string{"1e400", "-0.5", "-1", "99999999999999999999999", "0x10", "NaN", "Infinity", "1_000", "0.5"} {
		body := strings.Replace(string(okReport), `"seq":100`, `"seq":`+n, 1)
		add(hostile{what: "seq " + n, method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: []byte(body)})
		body = strings.Replace(string(okReport), `"memory_bytes":8589934592`, `"memory_bytes":`+n, 1)
		add(hostile{what: "memory_bytes " + n, method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: []byte(body)})
	}
	for _, when := range []string{"yesterday", "2026-13-01T00:00:00Z", "", "0", "2026-09-01"} {
		body := strings.Replace(string(okReport), `"collected_at":"`, `"collected_at":"`+when+`","was":"`, 1)
		add(hostile{what: "collected_at " + when, method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: []byte(body)})
	}
	// Bounds: long strings, long lists, many extra facts, oversized bodies.
	long := func(n int) string { return strings.Repeat("x", n) }
	for i := range 40 {
		r := validReport(300)
		host := r["host"].(map[string]any)
		switch i % 5 {
		case 0:
			host["hostname"] = long(agentapi.MaxStringLen + 1 + i)
		case 1:
			disks := make([]any, agentapi.MaxListLen+1+i)
			for j := range disks {
				disks[j] = map[string]any{"mount": "/"}
			}
			host["disks"] = disks
		case 2:
			extra := map[string]any{}
			for j := range agentapi.MaxExtraFacts + 1 + i {
				extra[fmt.Sprintf("f%d", j)] = j
			}
			r["extra"] = extra
		case 3:
			r["updates"].(map[string]any)["packages"] = []any{"ok", long(agentapi.MaxStringLen + 1)}
		case 4:
			r["fingerprint"] = long(agentapi.MaxFingerprintLn + 1)
		}
		add(hostile{what: fmt.Sprintf("bounds %d", i%5), method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: checkin(r)})
	}
	for i := range 10 {
		big := checkin(map[string]any{"schema": 1, "seq": 400, "host": map[string]any{"hostname": long(agentapi.MaxBodyBytes + i*1000)}})
		add(hostile{what: "body over 1 MiB", method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: big})
	}
	// Deep nesting, inside a field that takes raw JSON and at the top.
	for _, depth := range []int{1000, 10001, 100000} {
		nest := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		add(hostile{what: fmt.Sprintf("nesting %d in extra", depth), method: "POST", path: agentapi.PathCheckin, cred: a.cred,
			body: []byte(strings.Replace(string(okReport), `"seq":100`, `"seq":100,"extra":{"deep":`+nest+`},"x":1`, 1))})
		add(hostile{what: fmt.Sprintf("nesting %d at top", depth), method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: []byte(nest)})
	}
	// Invalid UTF-8 in every string position, and random bytes.
	for i := range 300 {
		r := validReport(500)
		bad := string([]byte{'l', 'p', 0xff, 0xfe, byte(0x80 + i%64)})
		switch i % 4 {
		case 0:
			r["host"].(map[string]any)["hostname"] = "PLACEHOLDER"
		case 1:
			r["updates"].(map[string]any)["manager"] = "PLACEHOLDER"
		case 2:
			r["agent_version"] = "PLACEHOLDER"
		case 3:
			r["PLACEHOLDER"] = 1 // an unknown field with a broken name
		}
		body := strings.Replace(string(checkin(r)), "PLACEHOLDER", bad, 1)
		add(hostile{what: "invalid UTF-8", method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: []byte(body)})
		junk := make([]byte, 1+rng.IntN(2000))
		for j := range junk {
			junk[j] = byte(rng.UintN(256))
		}
		add(hostile{what: "random bytes", method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: junk})
		// A valid body cut short.
		add(hostile{what: "truncated", method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: okReport[:rng.IntN(len(okReport)-1)]})
	}
	// Structure: missing parts, wrong kinds, two values, wrong media type.
	for _, body := range []string{``, `null`, `[]`, `"report"`, `{}`, `{"kind":"report"}`, `{"kind":"report","report":null}`,
		`{"kind":"heartbeat"}`, `{"kind":"heartbeat","heartbeat":{"fingerprint":"` + long(65) + `"}}`, `{"kind":"reboot"}`,
		`{"kind":"heartbeat","heartbeat":{"fingerprint":7}}`, string(okReport) + string(okReport), `{"kind":["report"]}`} {
		for range 5 {
			add(hostile{what: "structure " + body[:min(len(body), 30)], method: "POST", path: agentapi.PathCheckin, cred: a.cred, body: []byte(body)})
		}
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"} {
		add(hostile{what: "content type " + ct, method: "POST", path: agentapi.PathCheckin, cred: a.cred, ctype: ct, body: okReport})
	}
	add(hostile{what: "headers over 64 KiB", method: "POST", path: agentapi.PathCheckin, cred: a.cred,
		headers: map[string]string{"X-Padding": long(70 << 10)}, body: okReport})

	// Enrollment: bad, used up, revoked tokens; a good token with a bad body.
	enrollBody := func(token, hostname string, macs int) []byte {
		m := make([]string, macs)
		for i := range m {
			m[i] = "aa:bb"
		}
		data, _ := json.Marshal(agentapi.EnrollRequest{Token: token, Hostname: hostname, MACs: m})
		return data
	}
	for i := range 100 {
		for _, tok := range []string{usedUpEnroll, revokedEnroll, fmt.Sprintf("pe_%016d.%032d", i, i), "pe_x", "", "pa_" + a.id + "." + secretOf(a.cred),
			goodEnroll + "x", strings.Replace(goodEnroll, "pe_", "pu_", 1)} {
			add(hostile{what: "enroll with a bad token", method: "POST", path: agentapi.PathEnroll, body: enrollBody(tok, "intruder", 1)})
		}
	}
	for _, body := range [][]byte{enrollBody(goodEnroll, "", 0), enrollBody(goodEnroll, long(257), 0), enrollBody(goodEnroll, "h", 65),
		[]byte(strings.Replace(string(enrollBody(goodEnroll, "PLACEHOLDER", 0)), "PLACEHOLDER", "\xff", 1)),
		[]byte(`{"token":7}`), []byte(`{"token":"` + goodEnroll + `","hostname":["a"]}`)} {
		for range 5 {
			add(hostile{what: "enroll with a bad body", method: "POST", path: agentapi.PathEnroll, body: body})
		}
	}

	// Admin API: strict bodies, bounds, path tricks, roles, queries.
	adminBodies := map[string]string{
		adminapi.PathTokens:       `{"name":"n","role":"viewer",`,
		adminapi.PathEnrollTokens: `{"max_uses":1,`,
	}
	for path, prefix := range adminBodies {
		for _, tail := range []string{`"unknown":1}`, `"role":"root"}`, `"ttl":"-1h"}`, `"ttl":"99999h"}`, `"ttl":"soon"}`, `"max_uses":-3}`,
			`"site":"../etc"}`, `"site":"a/b"}`, `"name":"` + long(300) + `"}`, `"name":"\u001b[2J"}`, `"role":7}`, `"max_uses":1e99}`} {
			body := prefix + tail
			if path == adminapi.PathEnrollTokens && strings.Contains(tail, `"role":"root"`) {
				continue // an enroll token's role is any unit role name: valid there
			}
			for range 3 {
				add(hostile{what: "admin body " + tail, method: "POST", path: path, cred: adminTok, body: []byte(body)})
			}
		}
	}
	for _, p := range []string{
		adminapi.PathUnits + "/..%2f..%2fagents", adminapi.PathUnits + "/%2e%2e", adminapi.PathUnits + "/a%00b", adminapi.PathUnits + "/" + long(200),
		adminapi.PathUnits + "/a%2Fb", adminapi.PathAgents + "/..%2fx", adminapi.PathAgents + "/%2e%2e%2f%2e%2e",
		adminapi.PathUnits + "/../tokens", "/api/v1/../v1/tokens", "/api//v1//units", "/api/v1/units/./x", "/../../etc/passwd",
	} {
		for range 5 {
			add(hostile{what: "path " + p, method: "GET", path: p, cred: adminTok})
		}
	}
	for _, id := range []string{"..", "nosuch", "a%2Fb", "%2e%2e", long(129), "x%00"} {
		add(hostile{what: "revoke agent " + id, method: "POST", path: adminapi.PathAgents + "/" + id + "/revoke", cred: adminTok, body: []byte(`{"reason":"x"}`)})
		add(hostile{what: "rotate agent " + id, method: "POST", path: adminapi.PathAgents + "/" + id + "/rotate", cred: adminTok, body: []byte(`{}`)})
		add(hostile{what: "revoke token " + id, method: "DELETE", path: adminapi.PathTokens + "/" + id, cred: adminTok})
		add(hostile{what: "revoke enroll token " + id, method: "DELETE", path: adminapi.PathEnrollTokens + "/" + id, cred: adminTok})
	}
	// A viewer may read, never write.
	for range 20 {
		add(hostile{what: "viewer creates a token", method: "POST", path: adminapi.PathTokens, cred: viewerTok, body: []byte(`{"name":"me","role":"admin"}`)})
		add(hostile{what: "viewer creates an enroll token", method: "POST", path: adminapi.PathEnrollTokens, cred: viewerTok, body: []byte(`{}`)})
		add(hostile{what: "viewer revokes an agent", method: "POST", path: adminapi.PathAgents + "/" + a.id + "/revoke", cred: viewerTok, body: []byte(`{"reason":"x"}`)})
		add(hostile{what: "viewer reads the audit log", method: "GET", path: adminapi.PathAudit, cred: viewerTok})
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=abc", "limit=99999999999999999999", "limit=5001", "limit=%00"} {
		add(hostile{what: "units ?" + q, method: "GET", path: adminapi.PathUnits + "?" + q, cred: adminTok})
	}
	for _, q := range []string{"since=yesterday", "until=2026-13-01T00:00:00Z", "limit=0", "after=" + long(300), "actor=" + long(300), "action=%ff"} {
		add(hostile{what: "audit ?" + q, method: "GET", path: adminapi.PathAudit + "?" + q, cred: adminTok})
	}
	// Methods and routes that do not exist.
	for _, m := range []string{"PUT", "PATCH", "DELETE", "GET"} {
		add(hostile{what: m + " checkin", method: m, path: agentapi.PathCheckin, cred: a.cred, body: okReport})
		add(hostile{what: m + " enroll", method: m, path: agentapi.PathEnroll, body: []byte(`{}`)})
	}
	for _, p := range []string{"/", "/api", "/api/v2/units", "/api/v1/units/x/y/z", "/metrics/../api/v1/tokens", "/%00", "/api/v1/" + long(4000)} {
		add(hostile{what: "route " + p[:min(len(p), 30)], method: "GET", path: p, cred: adminTok})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
