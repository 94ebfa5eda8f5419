package cluster_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/ackcheck"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// Bounds the fault tests hold parc to. etcd elects a new leader within its
// election timeout (1 s by default) plus a round of votes; check-ins must go
// on within that and a few seconds. The reconciler's lease is 6 s
// (--reconcile-lease); a new etcd leader gives every lease its TTL again
// plus the election timeout, so a new reconciler is elected about 9 s after
// the death of a replica that led both.
const (
	checkinGap      = 6 * time.Second
	reconcilerTakes = 15 * time.Second
)

// load is a fault test's simulated fleet: a load run in the background,
// and a probe agent that sends a full report every 100 ms to time the gap
// a fault leaves.
type load struct {
	t       *testing.T
	cancel  context.CancelFunc
	started chan struct{} // closed at the load phase's first progress
	done    chan struct{}
	res     *sim.Result
	err     error

	mu       sync.Mutex
	accepted []time.Time // probe reports acknowledged
	probeAck []sim.Ack
}

// fleet is a load run's size: modest, because the fault tests share a
// 2-core CI machine with the other packages' tests.
func fleet(serverURL, token string, d time.Duration) sim.LoadConfig {
	return sim.LoadConfig{ServerURL: serverURL, EnrollToken: token, Agents: 150, Interval: time.Second,
		ChangeFraction: 0.25, Duration: d, Concurrency: 32}
}

// startLoad enrols the probe, then runs the fleet's load (enrolment, then
// check-ins for cfg.Duration) and the probe in the background, through
// cfg.ServerURL (one URL or a list). It returns once the fleet checks in.
func startLoad(t *testing.T, cfg sim.LoadConfig) *load {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	log := slog.New(slog.DiscardHandler)
	probe, err := sim.Enroll(ctx, cfg.ServerURL, nil, cfg.EnrollToken, sim.Host(cfg.Agents+1))
	if err != nil {
		cancel()
		t.Fatalf("enrolling the probe: %v", err)
	}
	l := &load{t: t, cancel: cancel, started: make(chan struct{}), done: make(chan struct{})}
	var once sync.Once
	cfg.Progress = func(p sim.Progress) {
		if p.Phase == "load" {
			once.Do(func() { close(l.started) })
		}
	}
	probeCtx, stopProbe := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { l.runProbe(probeCtx, probe) })
	go func() {
		l.res, l.err = sim.RunLoad(ctx, cfg, log)
		stopProbe()
		wg.Wait()
		close(l.done)
	}()
	select {
	case <-l.started:
	case <-l.done:
		t.Fatalf("the load run ended before it began: %v", l.err)
	}
	return l
}

// runProbe sends a changed full report every 100 ms until ctx ends, sending
// one that failed again with the same number, as the agent's spool does.
func (l *load) runProbe(ctx context.Context, a *sim.Agent) {
	var pending *agentapi.Report
	for ctx.Err() == nil {
		if pending == nil {
			a.Seq++
			a.Report.Host.UptimeSeconds = a.Seq
			r := a.Report
			r.Seq, r.CollectedAt = a.Seq, time.Now().UTC()
			r.Fingerprint = r.ComputeFingerprint()
			pending = &r
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		resp, err := a.Client.Checkin(rctx, agentapi.CheckinRequest{Kind: agentapi.KindReport, Report: pending})
		cancel()
		if err == nil && resp.Accepted && resp.Seq >= pending.Seq {
			l.mu.Lock()
			l.accepted = append(l.accepted, time.Now())
			l.probeAck = append(l.probeAck, sim.Ack{AgentID: a.ID, Seq: pending.Seq, Fingerprint: pending.Fingerprint})
			l.mu.Unlock()
			pending = nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// firstAcceptedAfter is when the probe's first report after t was
// acknowledged, zero if none was.
func (l *load) firstAcceptedAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.accepted {
		if a.After(t) {
			return a
		}
	}
	return time.Time{}
}

// wait waits for the run's end and returns its result with the probe's
// acknowledged reports among the acked ones.
func (l *load) wait() *sim.Result {
	l.t.Helper()
	defer l.cancel()
	select {
	case <-l.done:
	case <-time.After(2 * time.Minute):
		l.t.Fatal("the load run did not end")
	}
	if l.err != nil {
		l.t.Fatalf("load run: %v", l.err)
	}
	l.res.Acked = append(l.res.Acked, l.probeAck...)
	return l.res
}

// verifyAcked checks that every acknowledged report is in etcd, read through
// endpoint.
func verifyAcked(t *testing.T, endpoint string, res *sim.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	missing, err := ackcheck.VerifyAcked(ctx, servertest.Client(t, endpoint), store.DefaultPrefix, res.Acked)
	if err != nil {
		t.Fatalf("reading the acknowledged reports back: %v", err)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged reports are not in etcd, e.g. %+v", len(missing), len(res.Acked), missing[:min(5, len(missing))])
	}
	if len(res.Acked) == 0 {
		t.Error("no report was acknowledged")
	}
}

// leadBoth makes the replica that reconciles also the etcd leader, moving
// etcd's leadership to its member if need be, and returns it.
func leadBoth(t *testing.T, servers []*servertest.Server) *servertest.Server {
	t.Helper()
	st := waitStatus(t, servers[0], 20*time.Second, "a reconciler and an etcd leader", func(st adminapi.ClusterStatus) bool {
		return st.ReconcilerLeader != "" && st.EtcdLeader != ""
	})
	byName := func(name string) *servertest.Server {
		i := slices.IndexFunc(servers, func(s *servertest.Server) bool { return s.Name == name })
		if i < 0 {
			t.Fatalf("no replica named %q", name)
		}
		return servers[i]
	}
	target := byName(st.ReconcilerLeader)
	if st.EtcdLeader != st.ReconcilerLeader {
		i := slices.IndexFunc(st.Members, func(m adminapi.EtcdMember) bool { return m.Name == target.Name })
		id, err := strconv.ParseUint(st.Members[i].ID, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// MoveLeader must be asked of the leader.
		if _, err := servertest.Client(t, byName(st.EtcdLeader).EtcdClientURL).MoveLeader(ctx, id); err != nil {
			t.Fatalf("moving etcd's leadership from %s to %s: %v", st.EtcdLeader, target.Name, err)
		}
	}
	waitStatus(t, target, 10*time.Second, "etcd led by the reconciling replica", func(st adminapi.ClusterStatus) bool {
		return st.EtcdLeader == target.Name && st.ReconcilerLeader == target.Name
	})
	return target
}

// TestClusterSurvivesLossOfItsLeader: three members under simulated load,
// agents configured with the list of replicas, the victim first. SIGKILL of
// the member that leads etcd and reconciles: check-ins go on through the
// others within the election time and a few seconds, another replica
// reconciles within 15 s, and every report acknowledged is in etcd; the
// killed member, restarted, rejoins and serves them.
func TestClusterSurvivesLossOfItsLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts a 3-member cluster")
	}
	servers := servertest.StartCluster(t, 3)
	victim := leadBoth(t, servers)
	var survivors []*servertest.Server
	urls := []string{victim.URL}
	for _, s := range servers {
		if s != victim {
			survivors = append(survivors, s)
			urls = append(urls, s.URL)
		}
	}
	token := enrollToken(t, victim)
	l := startLoad(t, fleet(strings.Join(urls, ","), token, 14*time.Second))

	time.Sleep(4 * time.Second)
	if l.firstAcceptedAfter(time.Now().Add(-2 * time.Second)).IsZero() {
		t.Fatal("no report acknowledged before the fault")
	}
	killed := time.Now()
	victim.Kill()
	t.Logf("killed %s, etcd leader and reconciler", victim.Name)

	// A new reconciler among the survivors.
	var st adminapi.ClusterStatus
	deadline := killed.Add(reconcilerTakes)
	for {
		st, _ = tryStatus(t, survivors[0])
		if st.ReconcilerLeader != "" && st.ReconcilerLeader != victim.Name {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica reconciles %s after %s was killed; last status %+v", reconcilerTakes, victim.Name, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(killed)
	i := slices.IndexFunc(survivors, func(s *servertest.Server) bool { return s.Name == st.ReconcilerLeader })
	if i < 0 || strings.Count(survivors[i].Logs(), "this replica reconciles now") != 1 {
		t.Errorf("reconciler leader %q is not a survivor that took over", st.ReconcilerLeader)
	}
	if st.EtcdLeader == "" || st.EtcdLeader == victim.Name || healthy(st) != 2 {
		t.Errorf("after the kill: etcd leader %q, %d healthy members; want a survivor, 2", st.EtcdLeader, healthy(st))
	}
	t.Logf("reconciler resumed on %s %s after the kill; etcd leader %s", st.ReconcilerLeader, took.Round(100*time.Millisecond), st.EtcdLeader)
	// The dead replica's registration goes with its lease.
	var alive []string
	for _, s := range survivors {
		alive = append(alive, s.Name)
	}
	slices.Sort(alive)
	waitStatus(t, survivors[1], 20*time.Second, "the dead replica gone from the list", func(st adminapi.ClusterStatus) bool {
		return sameReplicas(st, alive)
	})

	res := l.wait()
	first := l.firstAcceptedAfter(killed)
	if first.IsZero() || first.Sub(killed) > checkinGap {
		t.Errorf("first report acknowledged %s after the kill (zero: none); want within %s", first.Sub(killed), checkinGap)
	} else {
		t.Logf("first report acknowledged %s after the kill", first.Sub(killed).Round(10*time.Millisecond))
	}
	t.Logf("load: %d check-ins (%.0f/s), %d full reports, p50 %s p99 %s max %s, errors %v",
		res.CheckIns, res.Rate(res.CheckIns), res.FullReports, res.P50, res.P99, res.Max, res.Errors)
	verifyAcked(t, survivors[0].EtcdClientURL, res)

	// The killed member restarts on its data dir, catches up and serves
	// again: every acknowledged report is read back through it.
	victim.Restart()
	waitStatus(t, victim, 20*time.Second, "the restarted member back", func(st adminapi.ClusterStatus) bool {
		return healthy(st) == 3 && len(st.Replicas) == 3
	})
	verifyAcked(t, victim.EtcdClientURL, res)
}

// tryStatus asks s for the cluster's state; ok is false when it could not
// answer (no etcd leader yet).
func tryStatus(t *testing.T, s *servertest.Server) (adminapi.ClusterStatus, bool) {
	t.Helper()
	var st adminapi.ClusterStatus
	code, _ := call(t, s, "GET", adminapi.PathCluster, nil, &st)
	return st, code == 200
}

// TestSingleNodeSurvivesKill: one server under simulated load, SIGKILL,
// restart: every report acknowledged before, during and after is in etcd,
// and check-ins resume once it is back.
func TestSingleNodeSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	s := servertest.StartServer(t, servertest.Options{})
	l := startLoad(t, fleet(s.URL, enrollToken(t, s), 12*time.Second))
	time.Sleep(3 * time.Second)
	killed := time.Now()
	s.Kill()
	time.Sleep(time.Second)
	s.Restart()
	back := time.Now()
	t.Logf("killed, restarted and ready in %s", back.Sub(killed).Round(10*time.Millisecond))
	res := l.wait()
	if first := l.firstAcceptedAfter(back); first.IsZero() || first.Sub(back) > checkinGap {
		t.Errorf("first report acknowledged %s after the restart (zero: none)", first.Sub(back))
	}
	if len(res.Errors) == 0 {
		t.Error("no check-in failed while the server was down: was it down?")
	}
	t.Logf("load: %d check-ins, %d full reports, p99 %s, errors %v", res.CheckIns, res.FullReports, res.P99, res.Errors)
	verifyAcked(t, s.EtcdClientURL, res)
}
