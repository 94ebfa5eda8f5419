package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

func unitState(t *testing.T, s *servertest.Server, id string) adminapi.Unit {
	var u adminapi.Unit
	s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+id, nil, &u)
	return u
}

func failingRules(u adminapi.Unit) string {
	var out []string
	for _, r := range u.Reasons {
		if r.Result == "fail" {
			out = append(out, r.Rule)
		}
	}
	return strings.Join(out, ",")
}

// TestEndToEndReadiness imports an inventory of two sites, lets simulated
// agents report facts that fail chosen rules, and checks statuses, reasons
// and summaries through the admin API and parcctl.
func TestEndToEndReadiness(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	env := []string{"PARC_SERVER=" + s.URL, "PARC_TOKEN=" + s.AdminToken()}

	// 20 loaners at ecole-a, 10 loaners and 10 classroom PCs at ecole-b.
	var csv strings.Builder
	csv.WriteString("asset_tag;numéro de série;établissement;rôle\n")
	for i := range 40 {
		site, role := "ecole-a", "prêt"
		if i >= 20 {
			site = "ecole-b"
		}
		if i >= 30 {
			role = "classe"
		}
		fmt.Fprintf(&csv, "U-%02d;%s;%s;%s\n", i, sim.Host(i).Serial, site, role)
	}
	file := filepath.Join(t.TempDir(), "inventaire.csv")
	os.WriteFile(file, []byte(csv.String()), 0o600)
	out := servertest.Run(t, env, "parcctl", "import", "inventory", file)
	if !strings.Contains(out, "40 created") {
		t.Fatalf("import: %s", out)
	}

	tokens := map[string]string{}
	for _, site := range []string{"ecole-a", "ecole-b"} {
		tokens[site] = strings.TrimSpace(servertest.Run(t, env, "parcctl", "enroll-token", "create", "--site", site, "--role", "loaner", "--quiet"))
	}
	ctx := context.Background()
	now := time.Now()
	report := func(n int, site string, change func(*agentapi.Report)) *sim.Agent {
		a, err := sim.Enroll(ctx, s.URL, nil, tokens[site], sim.Host(n))
		if err != nil {
			t.Fatal(err)
		}
		sim.ReadyLoaner(&a.Report, now)
		if change != nil {
			change(&a.Report)
		}
		if _, err := a.Send(ctx); err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Ten loaners of ecole-a report; three fail one rule each.
	for n := range 10 {
		var change func(*agentapi.Report)
		switch n {
		case 1:
			change = func(r *agentapi.Report) { r.Battery.Batteries[0].HealthPercent = 61 }
		case 2:
			change = func(r *agentapi.Report) { r.Bandwidth.DownloadMbps = 6.2 }
		case 3:
			change = func(r *agentapi.Report) { r.Updates.PendingSecurity = 3 }
		}
		report(n, "ecole-a", change)
	}
	// U-20 of ecole-b reports through ecole-a's token: seen at the wrong site.
	report(20, "ecole-a", nil)
	// A machine nobody declared.
	report(999, "ecole-b", nil)

	checks := []struct {
		id, readiness, reconcile, flag, failing string
	}{
		{"U-00", "ready", "matched", "", ""},
		{"U-01", "not_ready", "matched", "", "battery-health"},
		{"U-02", "not_ready", "matched", "", "bandwidth"},
		{"U-03", "not_ready", "matched", "", "security-updates"},
		{"U-15", "unknown", "never_seen", "", ""},
		{"U-20", "ready", "matched", "wrong_site", ""},
		{"U-35", "unknown", "never_seen", "", ""},
	}
	servertest.Eventually(t, 20*time.Second, "statuses of the units", func() (bool, string) {
		for _, c := range checks {
			u := unitState(t, s, c.id)
			if u.Readiness != c.readiness || u.Reconcile != c.reconcile || failingRules(u) != c.failing ||
				(c.flag != "" && !strings.Contains(strings.Join(u.Flags, ","), c.flag)) {
				return false, fmt.Sprintf("%s: %s/%s flags %v failing %q, want %s/%s %s %q", c.id, u.Readiness, u.Reconcile, u.Flags, failingRules(u), c.readiness, c.reconcile, c.flag, c.failing)
			}
		}
		return true, ""
	})
	u1 := unitState(t, s, "U-01")
	if msg := u1.Reasons[0].Message; msg != "battery at 61% of design capacity, threshold 80% of design capacity" {
		t.Errorf("U-01 reason: %q", msg)
	}
	servertest.Eventually(t, 5*time.Second, "the undeclared machine", func() (bool, string) {
		var list adminapi.UnitList
		s.Admin(t, http.MethodGet, adminapi.PathUnits+"?reconcile=not_declared", nil, &list)
		return len(list.Units) == 1 && list.Units[0].Hostname == sim.Host(999).Hostname && list.Units[0].Site == "ecole-b", fmt.Sprintf("%+v", list.Units)
	})

	// The summary: ecole-a loaners 20 = 7 ready + 3 not ready + 10 unknown.
	var r adminapi.Readiness
	servertest.Eventually(t, 5*time.Second, "summary", func() (bool, string) {
		s.Admin(t, http.MethodGet, adminapi.PathReadiness+"?site=ecole-a", nil, &r)
		if len(r.Sites) != 1 {
			return false, fmt.Sprint(r)
		}
		rc := r.Sites[0].Roles["loaner"]
		return rc.Units == 20 && rc.Ready == 7 && rc.NotReady == 3 && rc.Unknown == 10 && rc.NeverSeen == 10 &&
			rc.Failing["battery-health"] == 1 && rc.Failing["bandwidth"] == 1 && rc.Failing["security-updates"] == 1, fmt.Sprintf("%+v", rc)
	})

	// The technician's work list, with reasons, in French too.
	work := servertest.Run(t, env, "parcctl", "units", "list", "--not-ready", "--site", "ecole-a", "--readiness", "not_ready", "--lang", "fr")
	for _, want := range []string{"U-01", "batterie à 61% de sa capacité d'origine", "U-02", "débit descendant 6.2 Mbps", "3 units not ready"} {
		if !strings.Contains(work, want) {
			t.Errorf("work list lacks %q:\n%s", want, work)
		}
	}
	sum := servertest.Run(t, env, "parcctl", "readiness", "--site", "ecole-a")
	if !strings.Contains(sum, "ecole-a") || !strings.Contains(sum, "battery-health 1") {
		t.Errorf("parcctl readiness:\n%s", sum)
	}

	// One unit repaired: its status and its site's summary follow.
	a3, _ := sim.Enroll(ctx, s.URL, nil, tokens["ecole-a"], sim.Host(3))
	sim.ReadyLoaner(&a3.Report, now)
	a3.Send(ctx)
	servertest.Eventually(t, 5*time.Second, "repaired unit", func() (bool, string) {
		u := unitState(t, s, "U-03")
		s.Admin(t, http.MethodGet, adminapi.PathReadiness+"?site=ecole-a", nil, &r)
		rc := r.Sites[0].Roles["loaner"]
		return u.Readiness == "ready" && rc.Ready == 8, fmt.Sprintf("%s, %+v", u.Readiness, rc)
	})
	// Two agents for U-03 now (the repaired laptop re-enrolled): the newest speaks, the other is named.
	if u := unitState(t, s, "U-03"); len(u.Others) != 1 || !strings.Contains(strings.Join(u.Flags, ","), "duplicate") {
		t.Errorf("U-03 after re-enrolment: others %v flags %v", u.Others, u.Flags)
	}

	// A bad CSV changes nothing.
	before := servertest.Run(t, env, "parcctl", "export", "inventory")
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("asset_tag,site,role\nU-00,ecole-a,loaner\nU-01,ecole-a,spaceship\n"), 0o600)
	if out, _, err := servertest.RunErr(t, env, "parcctl", "import", "inventory", bad); err == nil || !strings.Contains(out, "line 3") {
		t.Errorf("bad import: err %v, output %s", err, out)
	}
	if after := servertest.Run(t, env, "parcctl", "export", "inventory"); after != before {
		t.Error("a bad CSV changed the inventory")
	}
}

// TestReconcilerFailover runs two replicas on one external etcd: only one
// reconciles; when it is killed, the other takes over within 15 s and keeps
// statuses right.
func TestReconcilerFailover(t *testing.T) {
	e := servertest.StartEtcd(t)
	opt := servertest.Options{EtcdEndpoints: []string{e.Endpoint}, Args: []string{"--reconcile-resync", "2s"}}
	a := servertest.StartServer(t, opt)
	// The second replica gets the first one's CA and admin token.
	opt.ReplicaOf = a
	b := servertest.StartServer(t, opt)
	leads := func(s *servertest.Server) bool { return strings.Contains(s.Logs(), "this replica reconciles now") }
	servertest.Eventually(t, 15*time.Second, "a leader", func() (bool, string) { return leads(a) || leads(b), "" })
	time.Sleep(time.Second)
	if leads(a) == leads(b) {
		t.Fatalf("both or neither replica reconcile (a %v, b %v)", leads(a), leads(b))
	}
	leader, follower := a, b
	if leads(b) {
		leader, follower = b, a
	}

	token := enrollToken(t, follower)
	ctx := context.Background()
	agent, err := sim.Enroll(ctx, follower.URL, nil, token, sim.Host(1))
	if err != nil {
		t.Fatal(err)
	}
	agent.Report.Battery = &agentapi.BatteryFacts{Batteries: []agentapi.Battery{{Name: "BAT0", HealthPercent: 50, CycleCount: 10}}}
	agent.Send(ctx)
	servertest.Eventually(t, 5*time.Second, "status from the first leader", func() (bool, string) {
		u := unitState(t, follower, agent.ID)
		return strings.Contains(failingRules(u), "battery-health"), failingRules(u)
	})

	killed := time.Now()
	leader.Kill()
	servertest.Eventually(t, 15*time.Second, "the other replica takes over", func() (bool, string) { return leads(follower), "" })
	t.Logf("took over %.1fs after the leader was killed", time.Since(killed).Seconds())

	agent.Report.Battery.Batteries[0].HealthPercent = 95
	agent.Send(ctx)
	servertest.Eventually(t, 5*time.Second, "status from the new leader", func() (bool, string) {
		u := unitState(t, follower, agent.ID)
		return !strings.Contains(failingRules(u), "battery-health"), failingRules(u)
	})
}

func enrollToken(t *testing.T, s *servertest.Server) string {
	t.Helper()
	var tok adminapi.EnrollToken
	if code := s.Admin(t, http.MethodPost, adminapi.PathEnrollTokens, adminapi.EnrollTokenRequest{Role: "loaner"}, &tok); code != http.StatusCreated {
		t.Fatalf("creating an enroll token: %d", code)
	}
	return tok.Token
}
