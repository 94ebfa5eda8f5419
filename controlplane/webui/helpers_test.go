package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
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

// exampleInventory is configs/examples/inventory.csv.
func exampleInventory(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "configs", "examples", "inventory.csv")
}

// readyLoaners are the example inventory's loaners whose simulated agents
// report ready facts, with their serials.
var readyLoaners = map[string]string{"LP-0001": "PF3A0001", "LP-0002": "PF3A0002", "LP-0005": "PF3A0005", "LP-0101": "5CG2110101"}

// fleet starts a server with the example inventory imported and simulated
// agents reporting ready facts for readyLoaners; it waits until the
// continuity count sees them available.
func fleet(t *testing.T) *servertest.Server {
	t.Helper()
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	servertest.Run(t, env, "parcctl", "import", "inventory", exampleInventory(t))
	token := strings.TrimSpace(servertest.Run(t, env, "parcctl", "enroll-token", "create", "--quiet"))
	ctx := context.Background()
	n := 0
	for tag, serial := range readyLoaners {
		n++
		host := sim.Host(n)
		host.Serial = serial
		a, err := sim.Enroll(ctx, s.URL, s.HTTPClient(), token, host)
		if err != nil {
			t.Fatalf("enrolling the agent of %s: %v", tag, err)
		}
		sim.ReadyLoaner(&a.Report, time.Now())
		if _, err := a.Send(ctx); err != nil {
			t.Fatalf("report of %s: %v", tag, err)
		}
	}
	servertest.Eventually(t, 30*time.Second, "every simulated loaner available", func() (bool, string) {
		n := availableNow(t, s)
		return n == len(readyLoaners), fmt.Sprintf("%d available", n)
	})
	return s
}

// availableNow is the total of loaners available now, as parcctl
// continuity says.
func availableNow(t *testing.T, s *servertest.Server) int {
	t.Helper()
	var sum adminapi.ContinuitySummary
	out := servertest.Run(t, s.Env(), "parcctl", "continuity", "-o", "json")
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("parcctl continuity: %v\n%s", err, out)
	}
	return sum.Total.Available
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
func browser(t *testing.T, s *servertest.Server) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	base := s.HTTPClient()
	return &http.Client{Transport: base.Transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches a page and returns its status and body.
func get(t *testing.T, c *http.Client, u string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post sends a form as a same-origin page of the UI would, unless header
// says otherwise.
func post(t *testing.T, c *http.Client, s *servertest.Server, path string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signIn signs c in with token and fails the test if that does not work.
func signIn(t *testing.T, c *http.Client, s *servertest.Server, token string) {
	t.Helper()
	resp, body := post(t, c, s, "/ui/signin", url.Values{"token": {token}, "next": {"/ui/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign-in: %d to %q, want 303 to /ui/\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the forms of a page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

// loansOf lists loans through the admin API.
func loansOf(t *testing.T, s *servertest.Server) []adminapi.Loan {
	t.Helper()
	var list []adminapi.Loan
	out := servertest.Run(t, s.Env(), "parcctl", "loans", "list", "--list", "all", "-o", "json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("parcctl loans list: %v\n%s", err, out)
	}
	return list
}
