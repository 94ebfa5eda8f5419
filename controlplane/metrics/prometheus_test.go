package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

// promConfig scrapes one parc-server every second over HTTPS with a viewer
// token, and loads the alert rules of deploy/prometheus.
const promConfig = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
  - %q
scrape_configs:
  - job_name: parc
    scheme: https
    authorization:
      type: Bearer
      credentials_file: %q
    tls_config:
      ca_file: %q
    static_configs:
      - targets: [%q]
`

// promResult is the answer of Prometheus' instant query API.
type promResult struct {
	Status string `json:"status"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// TestRealPrometheusScrapesParc starts Debian's Prometheus on a free port,
// scraping a real parc-server with a viewer token, and asks its HTTP API
// for parc_ series and for an alert of deploy/prometheus firing.
func TestRealPrometheusScrapesParc(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian package prometheus; make test-deps installs it)")
	}
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	importCSV(t, env, "asset_tag,serial,site,role\nKI-1,SIM0000004,a,kiosk\n")
	sig := time.Now().Add(-2 * time.Hour)
	enroll(t, s, siteToken(t, env, "a"), 4, func(r *agentapi.Report) {
		r.AVKiosk = &agentapi.AVKioskFacts{Engine: "clamav", Installed: true, SignatureTime: &sig, LastScanInfected: 3}
	})
	viewer := strings.TrimSpace(servertest.Run(t, env, "parcctl", "tokens", "create", "--name", "prometheus", "--role", "viewer", "--quiet"))

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "parc.token")
	if err := os.WriteFile(tokenFile, []byte(viewer+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Abs("../../deploy/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	target := strings.TrimPrefix(s.URL, "https://")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, promConfig, filepath.Join(rules, "parc-alerts.yml"), filepath.Join(rules, "parc-thresholds.yml"),
		tokenFile, s.CAFile(), target), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", servertest.FreePort(t))
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})

	query := func(q string) (promResult, error) {
		var r promResult
		resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return r, err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return r, err
		}
		if r.Status != "success" {
			return r, fmt.Errorf("query %s: status %s", q, r.Status)
		}
		return r, nil
	}
	// first returns the value of the first series q gives, "" when none.
	first := func(q string) string {
		r, err := query(q)
		if err != nil || len(r.Data.Result) == 0 {
			return ""
		}
		v, _ := r.Data.Result[0].Value[1].(string)
		return v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	waitFor := func(what, q, want string) {
		t.Helper()
		for {
			got := first(q)
			if got == want {
				return
			}
			select {
			case <-done:
				t.Fatalf("prometheus exited while waiting for %s", what)
			case <-ctx.Done():
				t.Fatalf("%s: %s = %q, want %q (up: %q)", what, q, got, want, first(`up{job="parc"}`))
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	waitFor("the scrape succeeds with the viewer token", `up{job="parc"}`, "1")
	waitFor("the kiosk's unit counted", `sum(parc_units{site="a",role="kiosk",state=~"ready|not_ready|unknown"})`, "1")
	waitFor("the kiosk's infections", `parc_kiosk_infections{site="a"}`, "3")
	waitFor("the reconciler leader", `parc_reconciler_leader`, "1")
	waitFor("the alert of deploy/prometheus firing", `ALERTS{alertname="ParcKioskInfectionsFound",alertstate="firing",site="a"}`, "1")

	// Every query of the Grafana dashboard is one Prometheus accepts.
	for _, q := range dashboardQueries(t, filepath.Join(rules, "..", "grafana", "parc-fleet.json")) {
		if _, err := query(strings.ReplaceAll(q, "$site", ".*")); err != nil {
			t.Errorf("dashboard query %s: %v", q, err)
		}
	}

	r, err := query(`count({__name__=~"parc_.+"})`)
	if err != nil || len(r.Data.Result) == 0 {
		t.Fatalf("counting parc_ series: %v %+v", err, r)
	}
	t.Logf("Prometheus holds %v parc_ series of the server", r.Data.Result[0].Value[1])
}

// dashboardQueries lists the PromQL of every panel of a Grafana dashboard.
func dashboardQueries(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("dashboard %s: %v", file, err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" {
		t.Errorf("dashboard inputs %+v: want the one datasource input DS_PROMETHEUS", d.Inputs)
	}
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	if len(out) < 10 {
		t.Errorf("dashboard has %d queries", len(out))
	}
	return out
}
