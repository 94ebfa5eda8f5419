package sitelink_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

func getJSON(t *testing.T, s *servertest.Server, path string, out any) {
	t.Helper()
	if code := s.Admin(t, http.MethodGet, path, nil, out); code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
}

func metricsText(t *testing.T, s *servertest.Server) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	return b.String()
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func links(t *testing.T, s *servertest.Server) map[string]adminapi.SiteLink {
	var out adminapi.SiteLinks
	getJSON(t, s, adminapi.PathSiteLinks, &out)
	m := map[string]adminapi.SiteLink{}
	for _, l := range out.Sites {
		m[l.Site] = l
	}
	return m
}

// fleet keeps simulated agents checking in, as agents do on their
// interval, except those stopped.
type fleet struct {
	agents  []*sim.Agent
	stopped []atomic.Bool
}

func (f *fleet) run(ctx context.Context, t *testing.T, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for i, a := range f.agents {
				if !f.stopped[i].Load() {
					if _, _, err := a.Checkin(ctx); err != nil && ctx.Err() == nil {
						t.Errorf("check-in of %s: %v", a.ID, err)
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
}

// TestSiteGoesDarkAndComesBack runs a real parc-server with short
// thresholds, a real parc-agent made a probe by its role, and simulated
// agents at two sites. The probes' figures aggregate per site; when most
// agents of a site stop, the site is down in the API and parcctl and its
// units show "site link down"; when they come back, it is up again.
func TestSiteGoesDarkAndComesBack(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{Args: []string{
		"--site-silent-after", "3s", "--site-dark-window", "5s", "--site-link-interval", "200ms",
		"--lastseen-flush-interval", "200ms", "--reconcile-resync", "1s"}})
	env := s.Env()
	token := func(site, role string) string {
		return strings.TrimSpace(servertest.Run(t, env, "parcctl", "enroll-token", "create", "--site", site, "--role", role, "--quiet"))
	}
	tokA, tokB, kioskA := token("ecole-a", "loaner"), token("ecole-b", "loaner"), token("ecole-a", "kiosk")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	// A target for the real probe to connect to.
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	// The real agent: a kiosk, a probe by its role.
	agentDir := t.TempDir()
	conf := filepath.Join(agentDir, "agent.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`server: %s
state-dir: %s
interval: 1s
jitter: 0
bandwidth-interval: 0
probe:
  roles: [kiosk]
  interval: 1m
  attempts: 2
  throughput_interval: 10m
  targets: ["%s"]
`, s.URL, filepath.Join(agentDir, "state"), target.Addr())), 0o600)
	startAgent := func(args ...string) (stop func()) {
		cmd := exec.Command(servertest.Bin(t, "parc-agent"), append([]string{"--config", conf}, args...)...)
		var logs strings.Builder
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		return func() {
			cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("parc-agent log:\n%s", logs.String())
			}
		}
	}
	stopAgent := startAgent("--enroll-token", kioskA)
	defer func() { stopAgent() }()

	enroll := func(tok string, n int) *sim.Agent {
		a, err := sim.Enroll(ctx, s.URL, s.HTTPClient(), tok, sim.Host(n))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := &fleet{stopped: make([]atomic.Bool, 4)}
	for i := range 4 {
		a.agents = append(a.agents, enroll(tokA, i))
	}
	b := &fleet{stopped: make([]atomic.Bool, 3)}
	for i := range 3 {
		b.agents = append(b.agents, enroll(tokB, 10+i))
	}
	// ecole-b's probe loses half its packets.
	b.agents[0].Report.Link = &agentapi.LinkFacts{MeasuredAt: time.Now().UTC(), DownloadMbps: 42,
		Targets: []agentapi.LinkTarget{{Target: "gw", Method: agentapi.ProbeICMP, Sent: 4, Received: 2, Loss: 0.5, RTTMs: 35}}}
	a.run(ctx, t, &wg)
	b.run(ctx, t, &wg)

	servertest.Eventually(t, 60*time.Second, "both sites judged, the real probe reporting", func() (bool, string) {
		m := links(t, s)
		la, lb := m["ecole-a"], m["ecole-b"]
		ok := la.State == adminapi.LinkUp && la.ProbesReporting == 1 && la.Agents == 5 && la.RTTMs > 0 && la.Loss == 0 && la.DownloadMbps > 0 &&
			lb.State == adminapi.LinkDegraded && lb.ProbesReporting == 1 && lb.Loss == 0.5 && lb.DownloadMbps == 42
		return ok, fmt.Sprintf("%+v", m)
	})

	// ecole-a goes dark: the probe and three of the four laptops stop
	// within a second.
	stopAgent()
	for i := range 3 {
		a.stopped[i].Store(true)
	}
	servertest.Eventually(t, 30*time.Second, "ecole-a down", func() (bool, string) {
		m := links(t, s)
		la := m["ecole-a"]
		return la.State == adminapi.LinkDown && la.Silent == 4 && la.Agents == 5 && m["ecole-b"].State == adminapi.LinkDegraded, fmt.Sprintf("%+v", m)
	})
	if m := metricsText(t, s); !strings.Contains(m, `parc_site_link_up{site="ecole-a"} 0`) || !strings.Contains(m, `parc_site_link_up{site="ecole-b"} 1`) {
		t.Errorf("/metrics does not say ecole-a is dark and ecole-b up:\n%s", grepLines(m, "parc_site_link"))
	}
	out := servertest.Run(t, env, "parcctl", "sites", "links")
	if !strings.Contains(out, "DOWN (site dark)") || !strings.Contains(out, "4 of 5 silent") || !strings.Contains(out, "degraded") {
		t.Errorf("parcctl sites links:\n%s", out)
	}
	dark := func(want int) func() (bool, string) {
		return func() (bool, string) {
			var list adminapi.UnitList
			getJSON(t, s, adminapi.PathUnits+"?site=ecole-a", &list)
			n := 0
			var states []string
			for _, u := range list.Units {
				if u.Liveness == "site_dark" {
					n++
				}
				states = append(states, u.ID+"="+u.Liveness)
			}
			return n == want && len(list.Units) == 5, strings.Join(states, " ")
		}
	}
	servertest.Eventually(t, 30*time.Second, "the silent units of ecole-a marked site_dark", dark(4))
	out = servertest.Run(t, env, "parcctl", "units", "list", "--site", "ecole-a")
	if n := strings.Count(out, "site link down"); n != 4 {
		t.Errorf("parcctl units list: %d units say site link down, want 4:\n%s", n, out)
	}

	// The link is back: everyone checks in again.
	for i := range 3 {
		a.stopped[i].Store(false)
	}
	stopAgent = startAgent()
	servertest.Eventually(t, 30*time.Second, "ecole-a up again", func() (bool, string) {
		la := links(t, s)["ecole-a"]
		return la.State == adminapi.LinkUp && la.ProbesReporting == 1, fmt.Sprintf("%+v", la)
	})
	servertest.Eventually(t, 30*time.Second, "no unit of ecole-a dark any more", dark(0))
}
