package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/state"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

func enrollToken(t *testing.T, s *servertest.Server, site string) string {
	t.Helper()
	var tok adminapi.EnrollToken
	if code := s.Admin(t, http.MethodPost, adminapi.PathEnrollTokens, adminapi.EnrollTokenRequest{Site: site, Role: "loaner"}, &tok); code != http.StatusCreated {
		t.Fatalf("creating enroll token: %d", code)
	}
	return tok.Token
}

func TestEndToEnd(t *testing.T) {
	for _, mode := range []string{"embedded etcd", "external etcd"} {
		t.Run(mode, func(t *testing.T) {
			opt := servertest.Options{Args: []string{"--lastseen-flush-interval", "200ms"}}
			if mode == "external etcd" {
				opt.EtcdEndpoints = []string{servertest.StartEtcd(t).Endpoint}
			}
			s := servertest.StartServer(t, opt)
			if mode == "external etcd" && !strings.Contains(s.Logs(), "using external etcd") {
				t.Fatalf("server did not say it uses the external etcd:\n%s", s.Logs())
			}
			env := []string{"PARC_SERVER=" + s.URL, "PARC_TOKEN=" + s.AdminToken()}
			token := strings.TrimSpace(servertest.Run(t, env, "parcctl", "enroll-token", "create", "--site", "ecole-a", "--role", "loaner", "--quiet"))
			if !strings.HasPrefix(token, "pe_") {
				t.Fatalf("parcctl printed %q, want an enroll token", token)
			}

			stateDir := t.TempDir()
			agentArgs := []string{"--server", s.URL, "--state-dir", stateDir, "--once", "--log-level", "debug"}
			servertest.Run(t, nil, "parc-agent", append(agentArgs, "--enroll-token", token)...)
			st, err := state.Load(stateDir)
			if err != nil || !st.Enrolled() || st.AckedSeq != 1 {
				t.Fatalf("after the first run the agent state is %+v (%v), want enrolled with report 1 acknowledged", st, err)
			}
			info, err := os.Stat(filepath.Join(stateDir, state.FileName))
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("state file mode %v (%v), want 0600", info.Mode().Perm(), err)
			}

			// Nothing changed: the next run sends a heartbeat. The free
			// space of a disk is fingerprinted in steps of a GiB, and on a
			// machine busy building and testing it may cross one between
			// two runs: then that run sends a report (its content did
			// change), and the run after it a heartbeat.
			reports := 1
			for run := 2; ; run++ {
				_, stderr, err := servertest.RunErr(t, nil, "parc-agent", agentArgs...)
				if err == nil && strings.Contains(stderr, "heartbeat acknowledged") {
					break
				}
				if err != nil || run == 4 || !strings.Contains(stderr, "reports delivered") {
					t.Fatalf("run %d: no heartbeat: %v\n%s", run, err, stderr)
				}
				reports++
				t.Logf("run %d sent a report: its content changed (disk free space?)", run)
			}

			var u adminapi.Unit
			if code := s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+st.AgentID, nil, &u); code != http.StatusOK {
				t.Fatalf("GET unit: %d", code)
			}
			host, _ := os.Hostname()
			if u.Hostname != host || u.Site != "ecole-a" || u.Role != "loaner" || u.ReportSeq != uint64(reports) {
				t.Errorf("unit = %+v, want hostname %s, site ecole-a, role loaner, report %d", u, host, reports)
			}
			if u.Report == nil || u.Report.Host.OS != runtime.GOOS || u.Report.Host.MemoryBytes == 0 || u.Report.Host.CPUCores == 0 {
				t.Errorf("unit report = %+v, want this machine's facts", u.Report)
			}
			if u.LastSeen == nil || time.Since(*u.LastSeen) > time.Minute {
				t.Errorf("last seen = %v, want just now", u.LastSeen)
			}

			out := servertest.Run(t, env, "parcctl", "units", "list")
			if !strings.Contains(out, st.AgentID) || !strings.Contains(out, host) || !strings.Contains(out, "1 units") {
				t.Errorf("parcctl units list:\n%s\nwant unit %s (%s)", out, st.AgentID, host)
			}
			var shown adminapi.Unit
			if err := json.Unmarshal([]byte(servertest.Run(t, env, "parcctl", "units", "show", st.AgentID, "-o", "json")), &shown); err != nil || shown.ID != st.AgentID {
				t.Errorf("parcctl units show -o json: %+v (%v)", shown, err)
			}
			if _, stderr, err := servertest.RunErr(t, env, "parcctl", "units", "show", "no-such-unit"); err == nil || !strings.Contains(stderr, "404") {
				t.Errorf("parcctl units show of an unknown unit: err %v, stderr %q; want a 404 error", err, stderr)
			}

			// The heartbeat's last-seen time reaches etcd within a flush interval.
			cli := servertest.Client(t, etcdEndpoint(s, opt))
			key := "/parc/v1/lastseen/" + st.AgentID
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := cli.Get(context.Background(), key)
				if err == nil && len(resp.Kvs) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s in etcd after 10s", key)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

func etcdEndpoint(s *servertest.Server, opt servertest.Options) string {
	if len(opt.EtcdEndpoints) > 0 {
		return opt.EtcdEndpoints[0]
	}
	return s.EtcdClientURL
}

// simAgent is an enrolled agent driven by the test through the agent's own
// client and report types.
type simAgent struct {
	id     string
	cred   string
	client *client.Client
	seq    uint64
}

func enrollSim(t *testing.T, s *servertest.Server, token, hostname string) *simAgent {
	t.Helper()
	c, err := client.New(s.URL, s.HTTPClient(), "parc-test")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Enroll(context.Background(), agentapi.EnrollRequest{Token: token, Hostname: hostname})
	if err != nil {
		t.Fatalf("enrolling %s: %v", hostname, err)
	}
	c.SetCredential(resp.Credential)
	return &simAgent{id: resp.AgentID, cred: resp.Credential, client: c}
}

// report sends the agent's next report, whose content differs by n.
func (a *simAgent) report(ctx context.Context, n int) (agentapi.CheckinResponse, *agentapi.Report, error) {
	a.seq++
	r := &agentapi.Report{Schema: agentapi.SchemaVersion, Seq: a.seq, CollectedAt: time.Now().UTC(),
		Host: agentapi.HostFacts{Hostname: fmt.Sprintf("sim-%s", a.id), OS: "linux", CPUCores: 4, MemoryBytes: uint64(8+n) << 30}}
	r.Fingerprint = r.ComputeFingerprint()
	resp, err := a.client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindReport, Report: r})
	return resp, r, err
}

func TestSIGKILLKeepsAcknowledgedReports(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	token := enrollToken(t, s, "ecole-b")
	const agents, reports = 20, 5
	sims := make([]*simAgent, agents)
	for i := range sims {
		sims[i] = enrollSim(t, s, token, fmt.Sprintf("lp-%02d", i))
	}

	type ack struct {
		seq uint64
		fp  string
	}
	acked := make([]ack, agents)
	var wg sync.WaitGroup
	for i, a := range sims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range reports {
				resp, r, err := a.report(context.Background(), n)
				if err != nil {
					t.Errorf("agent %d report %d: %v", i, r.Seq, err)
					return
				}
				if resp.Accepted && resp.Seq == r.Seq {
					acked[i] = ack{r.Seq, r.Fingerprint}
				}
			}
		}()
	}
	wg.Wait()
	s.Kill()
	s.Restart()

	cli := servertest.Client(t, s.EtcdClientURL)
	for i, a := range sims {
		if acked[i].seq != reports {
			t.Fatalf("agent %d: only report %d acknowledged", i, acked[i].seq)
		}
		var u adminapi.Unit
		if code := s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+a.id, nil, &u); code != http.StatusOK {
			t.Fatalf("agent %d after restart: GET unit %d", i, code)
		}
		if u.ReportSeq != acked[i].seq || u.Report == nil || u.Report.Fingerprint != acked[i].fp {
			t.Errorf("agent %d after restart: report %d %v, want the acknowledged %d %s", i, u.ReportSeq, u.Report != nil, acked[i].seq, acked[i].fp)
		}
		resp, err := cli.Get(context.Background(), "/parc/v1/reportlog/"+a.id+"/", clientPrefix())
		if err != nil || len(resp.Kvs) != reports {
			t.Errorf("agent %d: %d receipts (%v), want %d", i, len(resp.Kvs), err, reports)
		}
	}
	// A redelivered report (its acknowledgement lost) is stored once.
	a := sims[0]
	a.seq--
	resp, _, err := a.report(context.Background(), 99)
	if err != nil || !resp.Accepted || resp.Seq != reports {
		t.Fatalf("redelivery: %+v %v, want accepted with seq %d", resp, err, reports)
	}
	var u adminapi.Unit
	s.Admin(t, http.MethodGet, adminapi.PathUnits+"/"+a.id, nil, &u)
	if u.Report.Fingerprint != acked[0].fp {
		t.Errorf("redelivered report replaced the stored one")
	}
}

func TestSIGTERMFlushesLastSeen(t *testing.T) {
	// A flush interval longer than the test: only the shutdown flush can
	// write the heartbeat's time.
	s := servertest.StartServer(t, servertest.Options{Args: []string{"--lastseen-flush-interval", "5m"}})
	a := enrollSim(t, s, enrollToken(t, s, ""), "lp-term")
	_, r, err := a.report(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // last-seen times have a resolution of a second
	before := time.Now().Unix()
	resp, err := a.client.Checkin(context.Background(), agentapi.CheckinRequest{Kind: agentapi.KindHeartbeat,
		Heartbeat: &agentapi.Heartbeat{Fingerprint: r.Fingerprint, SentAt: time.Now()}})
	if err != nil || !resp.Accepted || resp.NeedFullReport {
		t.Fatalf("heartbeat: %+v %v", resp, err)
	}
	s.Stop(30 * time.Second)
	if !strings.Contains(s.Logs(), "last-seen times flushed") || !strings.Contains(s.Logs(), "embedded etcd stopped") {
		t.Errorf("shutdown log lacks the flush or the etcd stop:\n%s", s.Logs())
	}
	s.Restart()
	cli := servertest.Client(t, s.EtcdClientURL)
	got, err := cli.Get(context.Background(), "/parc/v1/lastseen/"+a.id)
	if err != nil || len(got.Kvs) != 1 {
		t.Fatalf("last seen after restart: %v", err)
	}
	var sec int64
	fmt.Sscan(string(got.Kvs[0].Value), &sec)
	if sec < before {
		t.Errorf("last seen %d is the report's time, not the heartbeat's (>= %d): the shutdown did not flush", sec, before)
	}
}
