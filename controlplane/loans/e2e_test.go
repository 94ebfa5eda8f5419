package loans_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

// call makes an admin API request with token and returns the status and
// the decoded body.
func call(t *testing.T, s *servertest.Server, token, method, path string, in, out any) int {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		json.NewEncoder(&body).Encode(in)
	}
	req, _ := http.NewRequest(method, s.URL+path, &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// fleet starts a server with an inventory whose loaners report as ready
// through simulated agents: ready lists which sim.Host numbers report.
func fleet(t *testing.T, csv string, ready ...int) (*servertest.Server, []string) {
	t.Helper()
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	file := filepath.Join(t.TempDir(), "inventory.csv")
	os.WriteFile(file, []byte(csv), 0o600)
	servertest.Run(t, env, "parcctl", "import", "inventory", file)
	token := strings.TrimSpace(servertest.Run(t, env, "parcctl", "enroll-token", "create", "--quiet"))
	ctx := context.Background()
	for _, n := range ready {
		a, err := sim.Enroll(ctx, s.URL, s.HTTPClient(), token, sim.Host(n))
		if err != nil {
			t.Fatal(err)
		}
		sim.ReadyLoaner(&a.Report, time.Now())
		if _, err := a.Send(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s, env
}

func readiness(t *testing.T, s *servertest.Server, tag string) string {
	var u adminapi.Unit
	call(t, s, s.AdminToken(), http.MethodGet, adminapi.PathUnits+"/"+tag, nil, &u)
	return u.Readiness
}

func TestFiftyCheckoutsOneLoan(t *testing.T) {
	s, _ := fleet(t, "asset_tag,serial,site,role\nLP-1,"+sim.Host(1).Serial+",a,loaner\n", 1)
	servertest.Eventually(t, 20*time.Second, "LP-1 ready", func() (bool, string) { r := readiness(t, s, "LP-1"); return r == "ready", r })

	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = call(t, s, s.AdminToken(), http.MethodPost, adminapi.PathLoans, adminapi.CheckoutRequest{
				Unit: "LP-1", Borrower: fmt.Sprintf("S-%03d", i), BorrowerType: "student", Due: time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}, nil)
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("statuses %v, want one 201 and %d 409", count, n-1)
	}
	var list adminapi.LoanList
	call(t, s, s.AdminToken(), http.MethodGet, adminapi.PathLoans+"?list=all", nil, &list)
	if len(list.Loans) != 1 {
		t.Errorf("%d loans recorded, want 1", len(list.Loans))
	}
}

// inventory of the lifecycle test: site a owns LP-1…LP-4 (LP-4 assigned
// to b), site b owns LP-5 and LP-6; PC-1 is a classroom PC. LP-1, LP-2,
// LP-4 and LP-5 report ready; LP-3 and LP-6 never report.
func lifecycleCSV() string {
	var b strings.Builder
	b.WriteString("asset_tag,serial,site,role,assigned_site\n")
	for i, row := range []string{"a,loaner,", "a,loaner,", "a,loaner,", "a,loaner,b", "b,loaner,", "b,loaner,", "a,classroom,"} {
		tag := fmt.Sprintf("LP-%d", i+1)
		if i == 6 {
			tag = "PC-1"
		}
		fmt.Fprintf(&b, "%s,%s,%s\n", tag, sim.Host(i+1).Serial, row)
	}
	return b.String()
}

func continuity(t *testing.T, env []string) map[string]adminapi.Continuity {
	t.Helper()
	var s adminapi.ContinuitySummary
	if err := json.Unmarshal([]byte(servertest.Run(t, env, "parcctl", "continuity", "-o", "json")), &s); err != nil {
		t.Fatal(err)
	}
	out := map[string]adminapi.Continuity{"total": s.Total}
	for _, c := range s.Sites {
		out[c.Site] = c
	}
	return out
}

// check compares the counts that matter at each step, and that they add up.
func check(t *testing.T, step string, got map[string]adminapi.Continuity, want map[string][6]int) {
	t.Helper()
	for site, w := range want { // at site, on loan, to recover, not ready, available, shortfall
		c := got[site]
		if g := [6]int{c.AtSite, c.OnLoan, c.ToRecover, c.NotReady, c.Available, c.Shortfall}; g != w {
			t.Errorf("%s, site %s: at/loan/recover/notready/available/shortfall = %v, want %v", step, site, g, w)
		}
		if c.Available != c.AtSite-c.OnLoan-c.ToRecover-c.NotReady || c.AtSite != c.Owned-c.AssignedOut+c.AssignedIn {
			t.Errorf("%s, site %s: numbers do not add up: %+v", step, site, c)
		}
	}
}

func TestLoanLifecycleThroughParcctl(t *testing.T) {
	s, env := fleet(t, lifecycleCSV(), 1, 2, 4, 5)
	for _, tag := range []string{"LP-1", "LP-2", "LP-4", "LP-5"} {
		servertest.Eventually(t, 20*time.Second, tag+" ready", func() (bool, string) { r := readiness(t, s, tag); return r == "ready", r })
	}
	servertest.Run(t, env, "parcctl", "needs", "set", "a", "--category", "no_device", "--count", "3")
	due := time.Now().AddDate(0, 0, 30).Format(time.DateOnly)

	check(t, "start", continuity(t, env), map[string][6]int{
		"a": {3, 0, 0, 1, 2, 1}, // LP-1..3 at a; LP-3 never seen; 3 requests
		"b": {3, 0, 0, 1, 2, 0}, // LP-4 (from a), LP-5, LP-6 (never seen)
	})

	out := servertest.Run(t, env, "parcctl", "loans", "checkout", "LP-1", "--borrower", "S-1001", "--due", due, "--form-signed", "--form-ref", "F-2026-001")
	if !strings.Contains(out, "LP-1 lent to S-1001") {
		t.Errorf("checkout: %s", out)
	}
	servertest.Run(t, env, "parcctl", "loans", "checkout", "LP-5", "--borrower", "P-77", "--staff", "--due", due)
	c := continuity(t, env)
	check(t, "after two loans", c, map[string][6]int{"a": {3, 1, 0, 1, 1, 2}, "b": {3, 1, 0, 1, 1, 0}})
	if c["b"].OnLoanStaff != 1 || c["a"].OnLoanStudents != 1 {
		t.Errorf("staff/students: a %+v b %+v", c["a"], c["b"])
	}

	// A not-ready unit goes out only when forced, with a reason.
	if _, stderr, err := servertest.RunErr(t, env, "parcctl", "loans", "checkout", "LP-3", "--borrower", "S-1002", "--due", due); err == nil || !strings.Contains(stderr, "not ready") {
		t.Errorf("checkout of a never-seen unit: %v %s", err, stderr)
	}
	servertest.Run(t, env, "parcctl", "loans", "checkout", "LP-3", "--borrower", "S-1002", "--due", due, "--force", "--reason", "battery checked by hand")
	check(t, "after a forced loan", continuity(t, env), map[string][6]int{"a": {3, 2, 0, 0, 1, 2}})

	servertest.Run(t, env, "parcctl", "loans", "return", "LP-1", "--condition", "scratched lid")
	check(t, "after a return", continuity(t, env), map[string][6]int{"a": {3, 1, 0, 0, 2, 1}})

	servertest.Run(t, env, "parcctl", "loans", "lost", "LP-3")
	servertest.Run(t, env, "parcctl", "loans", "abandoned", "LP-5", "--note", "left the school")
	check(t, "after lost and abandoned", continuity(t, env), map[string][6]int{"a": {3, 0, 1, 0, 2, 1}, "b": {3, 0, 1, 1, 1, 0}})
	toRecover := servertest.Run(t, env, "parcctl", "loans", "list", "--list", "to_recover")
	if !strings.Contains(toRecover, "LP-3") || !strings.Contains(toRecover, "LP-5") || !strings.Contains(toRecover, "2 loans") {
		t.Errorf("to recover:\n%s", toRecover)
	}
	servertest.Run(t, env, "parcctl", "loans", "recover", "LP-3")
	servertest.Run(t, env, "parcctl", "loans", "recover", "LP-5")
	check(t, "after recovery", continuity(t, env), map[string][6]int{"a": {3, 0, 0, 1, 2, 1}, "b": {3, 0, 0, 1, 2, 0}})

	// Bad input: a clear answer, and nothing changes.
	before := servertest.Run(t, env, "parcctl", "loans", "export")
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"loans", "checkout", "LP-99", "--borrower", "S-1", "--due", due}, "not in the declared inventory"},
		{[]string{"loans", "checkout", "PC-1", "--borrower", "S-1", "--due", due}, "not a loaner"},
		{[]string{"loans", "checkout", "LP-2", "--borrower", "S-1", "--due", "2020-01-01"}, "in the past"},
		{[]string{"loans", "checkout", "LP-2", "--borrower", "", "--due", due}, "borrower id missing"},
		{[]string{"loans", "checkout", "LP-2", "--borrower", "Jean Dupont", "--due", due}, "never a name"},
		{[]string{"loans", "return", "LP-2"}, "not on loan"},
	} {
		_, stderr, err := servertest.RunErr(t, env, "parcctl", bad.args...)
		if err == nil || !strings.Contains(stderr, bad.want) {
			t.Errorf("parcctl %s: err %v, stderr %q; want an error saying %q", strings.Join(bad.args, " "), err, stderr, bad.want)
		}
	}
	servertest.Run(t, env, "parcctl", "loans", "checkout", "LP-2", "--borrower", "S-2", "--due", due)
	if _, stderr, err := servertest.RunErr(t, env, "parcctl", "loans", "checkout", "LP-2", "--borrower", "S-3", "--due", due); err == nil || !strings.Contains(stderr, "already lent") {
		t.Errorf("second checkout: %v %s", err, stderr)
	}
	servertest.Run(t, env, "parcctl", "loans", "return", "LP-2")
	if after := servertest.Run(t, env, "parcctl", "loans", "export"); !strings.HasPrefix(after, strings.TrimSpace(before)) && len(after) <= len(before) {
		t.Errorf("register changed by refused requests")
	}

	// The register, for the storekeeper: every loan, with its borrower.
	register := servertest.Run(t, env, "parcctl", "loans", "export", "--lang", "fr")
	if !strings.HasPrefix(register, "prêt;numéro d'inventaire") || !strings.Contains(register, "S-1001") || strings.Count(register, "\n") != 5 {
		t.Errorf("register:\n%s", register)
	}
	// The unit's history.
	if hist := servertest.Run(t, env, "parcctl", "loans", "list", "--list", "all", "--unit", "LP-1"); !strings.Contains(hist, "returned") {
		t.Errorf("history of LP-1:\n%s", hist)
	}

	// A viewer sees loans, never borrower ids.
	viewer := strings.TrimSpace(servertest.Run(t, env, "parcctl", "tokens", "create", "--name", "v", "--role", "viewer", "--quiet"))
	var list adminapi.LoanList
	call(t, s, viewer, http.MethodGet, adminapi.PathLoans+"?list=all", nil, &list)
	for _, l := range list.Loans {
		if l.Borrower != "" || l.FormRef != "" {
			t.Errorf("viewer sees borrower data: %+v", l)
		}
	}
	if code := call(t, s, viewer, http.MethodPost, adminapi.PathLoans, adminapi.CheckoutRequest{Unit: "LP-2"}, nil); code != http.StatusForbidden {
		t.Errorf("viewer checkout: %d, want 403", code)
	}

	// Privacy: erase refuses while the borrower holds a unit, then anonymises.
	servertest.Run(t, env, "parcctl", "loans", "checkout", "LP-1", "--borrower", "S-1001", "--due", due)
	if _, stderr, err := servertest.RunErr(t, env, "parcctl", "privacy", "erase", "--borrower", "S-1001"); err == nil || !strings.Contains(stderr, "still holds unit LP-1") {
		t.Errorf("erase with an open loan: %v %s", err, stderr)
	}
	servertest.Run(t, env, "parcctl", "loans", "return", "LP-1")
	if out := servertest.Run(t, env, "parcctl", "privacy", "erase", "--borrower", "S-1001"); !strings.Contains(out, "2 loans of S-1001 anonymised") {
		t.Errorf("erase: %s", out)
	}
	if export := servertest.Run(t, env, "parcctl", "privacy", "export", "--borrower", "S-1001"); strings.Contains(export, "LP-1") {
		t.Errorf("after erasure parc still holds loans of S-1001:\n%s", export)
	}
	audit := servertest.Run(t, env, "parcctl", "audit", "--action", "loan")
	for _, want := range []string{"loan.checkout", "loan.return", "loan.lost", "loan.recover"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s:\n%s", want, audit)
		}
	}
}

func TestBulkAllOrNothing(t *testing.T) {
	s, env := fleet(t, lifecycleCSV(), 1, 2, 4, 5)
	for _, tag := range []string{"LP-1", "LP-2", "LP-4"} {
		servertest.Eventually(t, 20*time.Second, tag+" ready", func() (bool, string) { r := readiness(t, s, tag); return r == "ready", r })
	}
	due := time.Now().AddDate(0, 0, 30).Format("02/01/2006") // as a French spreadsheet writes it
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("Numéro d'inventaire;Emprunteur;Type;Échéance;Formulaire signé\n"+
		"LP-1;S-1;élève;"+due+";oui\nLP-2;S-2;élève;"+due+";oui\nLP-3;S-3;élève;"+due+";oui\nLP-1;S-4;élève;"+due+";non\n"), 0o600)
	out, _, err := servertest.RunErr(t, env, "parcctl", "loans", "bulk", bad)
	if err == nil || !strings.Contains(out, "line 4 LP-3") || !strings.Contains(out, "line 5 LP-1") || !strings.Contains(out, "nothing recorded") {
		t.Errorf("bulk with bad lines: %v\n%s", err, out)
	}
	if list := servertest.Run(t, env, "parcctl", "loans", "list", "--list", "all"); !strings.Contains(list, "0 loans") {
		t.Errorf("a bad bulk file recorded loans:\n%s", list)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("asset_tag,borrower,borrower_type,due,form_signed\nLP-1,S-1,student,"+due+",yes\nLP-2,S-2,staff,"+due+",yes\nLP-4,S-4,student,"+due+",no\n"), 0o600)
	if out := servertest.Run(t, env, "parcctl", "loans", "bulk", good); !strings.Contains(out, "3 units lent") {
		t.Errorf("bulk checkout: %s", out)
	}
	back := filepath.Join(dir, "back.csv")
	os.WriteFile(back, []byte("asset_tag,condition\nLP-1,ok\nLP-2,cracked screen\n"), 0o600)
	if out := servertest.Run(t, env, "parcctl", "loans", "bulk", "--checkin", back); !strings.Contains(out, "2 units returned") {
		t.Errorf("bulk checkin: %s", out)
	}
	if open := servertest.Run(t, env, "parcctl", "loans", "list", "--list", "open"); !strings.Contains(open, "LP-4") || !strings.Contains(open, "1 loans") {
		t.Errorf("open loans after bulk return:\n%s", open)
	}
}
