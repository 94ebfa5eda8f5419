package sim_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/ackcheck"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

// TestRunLoadAckedReportsAreDurable drives 50 agents, some offline, against
// a real server for two seconds, then checks in etcd that every report
// the server acknowledged is there, and that a report never stored would
// be reported missing.
func TestRunLoadAckedReportsAreDurable(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	token := strings.TrimSpace(servertest.Run(t, s.Env(), "parcctl", "enroll-token", "create", "--site", "ecole-a", "--role", "loaner", "--quiet"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var progress []sim.Progress
	res, err := sim.RunLoad(ctx, sim.LoadConfig{
		ServerURL: s.URL, EnrollToken: token, Agents: 50,
		Interval: 100 * time.Millisecond, ChangeFraction: 0.3, OfflineFraction: 0.1,
		Duration: 2 * time.Second, Concurrency: 16,
		Progress: func(p sim.Progress) { progress = append(progress, p) },
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("check-ins %d (full %d, heartbeats %d), p50 %s p99 %s max %s, errors %v, progress reports %d",
		res.CheckIns, res.FullReports, res.Heartbeats, res.P50, res.P99, res.Max, res.Errors, len(progress))
	if len(res.Errors) != 0 {
		t.Errorf("errors against a healthy server: %v", res.Errors)
	}
	if res.CheckIns != res.FullReports+res.Heartbeats || int64(len(res.Acked)) != res.FullReports {
		t.Errorf("counts disagree: %d check-ins, %d full, %d heartbeats, %d acked", res.CheckIns, res.FullReports, res.Heartbeats, len(res.Acked))
	}
	agents := map[string]bool{}
	for _, a := range res.Acked {
		agents[a.AgentID] = true
	}
	// 45 online agents each send a first full report, then some change.
	if len(agents) != 45 || res.FullReports <= 45 || res.Heartbeats == 0 {
		t.Errorf("%d agents reported (want the 45 online), %d full reports, %d heartbeats", len(agents), res.FullReports, res.Heartbeats)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("latencies out of order: p50 %s p99 %s max %s", res.P50, res.P99, res.Max)
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdClientURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	missing, err := ackcheck.VerifyAcked(ctx, cli, store.DefaultPrefix, res.Acked)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 0 {
		t.Fatalf("%d acknowledged reports not in etcd, first %+v", len(missing), missing[0])
	}

	// The check finds a report that was never stored: one beyond an
	// agent's last, and one whose fingerprint differs.
	last := res.Acked[len(res.Acked)-1]
	bogus := []sim.Ack{{AgentID: last.AgentID, Seq: last.Seq + 1, Fingerprint: last.Fingerprint},
		{AgentID: last.AgentID, Seq: last.Seq, Fingerprint: "sha256:0"},
		{AgentID: "no-such-agent", Seq: 1, Fingerprint: "sha256:0"}}
	missing, err = ackcheck.VerifyAcked(ctx, cli, store.DefaultPrefix, append(res.Acked, bogus...))
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != len(bogus) {
		t.Fatalf("missing %+v, want the %d made-up reports", missing, len(bogus))
	}
}
