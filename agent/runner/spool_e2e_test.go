package runner_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/collect"
	"github.com/parc-project/parc/agent/runner"
	"github.com/parc-project/parc/agent/spool"
	"github.com/parc-project/parc/agent/state"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// The test binary doubles as the agent process the spool test kills.
const (
	envChild  = "PARC_RUNNER_TEST_AGENT"
	envServer = "PARC_RUNNER_TEST_SERVER"
	envToken  = "PARC_RUNNER_TEST_TOKEN"
	envState  = "PARC_RUNNER_TEST_STATE"
	envUntil  = "PARC_RUNNER_TEST_UNTIL" // produce reports until this sequence number
	envSteady = "PARC_RUNNER_TEST_STEADY"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(child())
	}
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

// changing is a collector whose content changes at every cycle, as a unit
// whose measurements move; steady, it reports the same content.
type changing struct{ steady bool }

func (changing) Name() string { return "changing" }
func (c changing) Collect(_ context.Context, r *agentapi.Report) error {
	r.Host.Hostname, r.Host.OS = "spool-test", "linux"
	if !c.steady {
		r.Host.MemoryBytes = uint64(time.Now().UnixNano())
	}
	return nil
}

// child runs an agent until it produced the report numbered envUntil
// (reports are produced while the server is down), or, steady, until its
// spool is empty.
func child() int {
	until, _ := strconv.ParseUint(os.Getenv(envUntil), 10, 64)
	steady := os.Getenv(envSteady) == "1"
	dir := os.Getenv(envState)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := client.New(os.Getenv(envServer), nil, "spool-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	sp, err := spool.Open(filepath.Join(dir, "spool"), spool.Limits{}, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r := &runner.Runner{Collectors: []collect.Collector{changing{steady: steady}}, CollectTimeout: time.Second,
		Client: c, Server: os.Getenv(envServer), StateDir: dir, EnrollToken: os.Getenv(envToken),
		Spool: sp, Log: log, Now: time.Now}
	if err := r.Load(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for {
		err := r.Cycle(context.Background())
		switch {
		case steady && err == nil && sp.Len() == 0:
			return 0
		case !steady && r.Produced() >= until:
			return 0
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func startChild(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{envChild + "=1"}, env...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func produced(t *testing.T, dir string) uint64 {
	st, err := state.Load(dir)
	if err != nil {
		return 0
	}
	return st.LastSeq
}

// TestOfflineSpoolSurvivesSIGKILL: the server is down while the agent
// produces 100 reports; the agent is killed with SIGKILL in the middle;
// when the server is back, all 100 arrive once, in order.
func TestOfflineSpoolSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and kills an agent")
	}
	s := servertest.StartServer(t, servertest.Options{Args: []string{"--report-receipts-kept", "500"}})
	token := servertest.Run(t, s.Env(), "parcctl", "enroll-token", "create", "--quiet")
	dir := t.TempDir()
	env := []string{envServer + "=" + s.URL, envToken + "=" + token[:len(token)-1], envState + "=" + dir}

	// Enroll and deliver report 1 while the server is up.
	if err := startChild(t, append(env, envUntil+"=1")...).Wait(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	st, _ := state.Load(dir)
	if st.AckedSeq != 1 {
		t.Fatalf("report 1 not acknowledged: %+v", st)
	}

	s.Stop(30 * time.Second)
	// Reports 2…101 while the server is down; SIGKILL halfway.
	agent := startChild(t, append(env, envUntil+"=101")...)
	for produced(t, dir) < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	agent.Process.Signal(syscall.SIGKILL)
	agent.Wait()
	killedAt := produced(t, dir)
	if err := startChild(t, append(env, envUntil+"=101")...).Wait(); err != nil {
		t.Fatalf("run after SIGKILL: %v", err)
	}
	if p := produced(t, dir); p != 101 {
		t.Fatalf("produced up to %d, want 101", p)
	}

	s.Restart()
	if err := startChild(t, append(env, envSteady+"=1")...).Wait(); err != nil {
		t.Fatalf("delivery run: %v", err)
	}
	st, _ = state.Load(dir)
	t.Logf("killed after report %d; delivered up to %d", killedAt, st.AckedSeq)

	resp, err := servertest.Client(t, s.EtcdClientURL).Get(context.Background(), "/parc/v1/"+store.KindReportLog+"/"+st.AgentID+"/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	var last time.Time
	for _, kv := range resp.Kvs {
		var rc struct {
			Seq        uint64    `json:"seq"`
			ReceivedAt time.Time `json:"received_at"`
		}
		if err := store.Decode(kv.Value, &rc); err != nil {
			t.Fatal(err)
		}
		if rc.ReceivedAt.Before(last) {
			t.Errorf("report %d received before the one before it", rc.Seq)
		}
		last = rc.ReceivedAt
		seqs = append(seqs, rc.Seq)
	}
	// 1 while up, 2…101 offline; the steady run may add one more (its
	// content differs from the last offline report).
	if len(seqs) < 101 {
		t.Fatalf("%d reports stored, want at least 101: %v", len(seqs), seqs)
	}
	for i, seq := range seqs[:101] {
		if seq != uint64(i+1) {
			t.Fatalf("stored reports %v: want 1…101, each once, in order", seqs)
		}
	}
}
