package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/agent/state"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

// call calls the admin API of s with the cluster's admin token and decodes
// a 2xx answer into out.
func call(t testing.TB, s *servertest.Server, method, path string, in, out any) (int, string) {
	t.Helper()
	var body io.Reader
	if in != nil {
		data, _ := json.Marshal(in)
		body = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, s.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, string(data)
}

func status(t *testing.T, s *servertest.Server) adminapi.ClusterStatus {
	t.Helper()
	var st adminapi.ClusterStatus
	if code, body := call(t, s, http.MethodGet, adminapi.PathCluster, nil, &st); code != http.StatusOK {
		t.Fatalf("GET %s on %s: %d %s", adminapi.PathCluster, s.Name, code, body)
	}
	return st
}

// waitStatus polls s until ok(status) or the timeout.
func waitStatus(t *testing.T, s *servertest.Server, timeout time.Duration, what string, ok func(adminapi.ClusterStatus) bool) adminapi.ClusterStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var st adminapi.ClusterStatus
		code, _ := call(t, s, http.MethodGet, adminapi.PathCluster, nil, &st)
		if code == http.StatusOK && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s; last answer of %s: %+v", what, timeout, s.Name, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func enrollToken(t testing.TB, s *servertest.Server) string {
	t.Helper()
	var tok adminapi.EnrollToken
	if code, body := call(t, s, http.MethodPost, adminapi.PathEnrollTokens, adminapi.EnrollTokenRequest{Site: "ecole-a", Role: "loaner"}, &tok); code != http.StatusCreated {
		t.Fatalf("creating enroll token: %d %s", code, body)
	}
	return tok.Token
}

// clientFor is an agent client for a list of replicas, trusting the
// cluster's CA (the same in every replica).
func clientFor(t *testing.T, urls string, s *servertest.Server, credential string) *client.Client {
	t.Helper()
	c, err := client.New(urls, s.HTTPClient(), "parc-sim")
	if err != nil {
		t.Fatal(err)
	}
	c.SetCredential(credential)
	return c
}

// deadURL is an https URL on a port nothing listens on.
func deadURL(t *testing.T) string {
	return fmt.Sprintf("https://127.0.0.1:%d", servertest.FreePort(t))
}

// sameReplicas reports whether the registered replicas are names, each
// naming the ID of its etcd member (members and replicas share names here).
func sameReplicas(st adminapi.ClusterStatus, names []string) bool {
	ids := map[string]string{}
	for _, m := range st.Members {
		ids[m.Name] = m.ID
	}
	var got []string
	for _, r := range st.Replicas {
		if r.EtcdMemberID != ids[r.Name] {
			return false
		}
		got = append(got, r.Name)
	}
	slices.Sort(got)
	return slices.Equal(got, names)
}

// retry calls fn until it answers want, while it answers 503 (etcd not
// ready for a membership change), at most timeout.
func retry(t *testing.T, timeout time.Duration, what string, fn func() (int, string), want int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := fn()
		if code == want {
			return
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("%s: %d %s", what, code, body)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func healthy(st adminapi.ClusterStatus) int {
	n := 0
	for _, m := range st.Members {
		if m.Healthy {
			n++
		}
	}
	return n
}

// TestEmbeddedCluster: three parc-servers, each an etcd member, started as
// an operator starts a new cluster. Every replica serves the APIs under the
// one CA, agrees on who leads etcd and who reconciles, and sees what was
// written through another; a fourth member is added and removed.
func TestEmbeddedCluster(t *testing.T) {
	servers := servertest.StartCluster(t, 3)
	names := []string{"m1", "m2", "m3"}

	var leader, reconciler string
	for _, s := range servers {
		st := waitStatus(t, s, 20*time.Second, "a reconciler elected", func(st adminapi.ClusterStatus) bool { return st.ReconcilerLeader != "" })
		var got []string
		for _, m := range st.Members {
			got = append(got, m.Name)
		}
		if !slices.Equal(got, names) || healthy(st) != 3 || st.Replica != s.Name || !st.EmbeddedEtcd {
			t.Errorf("%s: %+v; want members %v all healthy, answered by %s", s.Name, st, names, s.Name)
		}
		if !sameReplicas(st, names) {
			t.Errorf("%s: replicas %+v, want %v each with its member", s.Name, st.Replicas, names)
		}
		if leader == "" {
			leader, reconciler = st.EtcdLeader, st.ReconcilerLeader
		}
		if st.EtcdLeader != leader || st.ReconcilerLeader != reconciler || !slices.Contains(names, leader) || !slices.Contains(names, reconciler) {
			t.Errorf("%s says etcd leader %q and reconciler %q; another said %q and %q", s.Name, st.EtcdLeader, st.ReconcilerLeader, leader, reconciler)
		}
	}
	// What a technician sees.
	out := servertest.Run(t, servers[1].Env(), "parcctl", "cluster")
	if strings.Count(out, "healthy") != 3 || !strings.Contains(out, "etcd leader "+leader) || !strings.Contains(out, "reconciles: "+reconciler) {
		t.Errorf("parcctl cluster:\n%s", out)
	}
	// Only the elected replica reconciles.
	for _, s := range servers {
		reconciles := strings.Contains(s.Logs(), "this replica reconciles now")
		if reconciles != (s.Name == reconciler) {
			t.Errorf("%s reconciles: %v; the elected one is %s", s.Name, reconciles, reconciler)
		}
	}

	// An agent enrolled through one replica checks in through another and
	// is seen through the third; its CA hash is the same everywhere.
	ctx := context.Background()
	a, err := sim.Enroll(ctx, servers[0].URL, nil, enrollToken(t, servers[0]), sim.Host(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Enroll(ctx, servers[2].URL, nil, enrollToken(t, servers[1]), sim.Host(2)); err != nil {
		t.Fatalf("enrolling through a replica with a token made by another: %v", err)
	}
	// From now on the agent knows two replicas, the first of them dead.
	a.Client = clientFor(t, deadURL(t)+","+servers[2].URL, servers[2], a.Credential)
	if resp, err := a.Send(ctx); err != nil || !resp.Accepted {
		t.Fatalf("check-in through another replica: %+v %v", resp, err)
	}
	// The real agent, given the replicas as a list whose first is down,
	// fetches the CA, enrolls and reports through the next.
	stateDir := t.TempDir()
	_, stderr, err := servertest.RunErr(t, nil, "parc-agent", "--server", deadURL(t)+","+servers[1].URL,
		"--enroll-token", enrollToken(t, servers[2]), "--state-dir", stateDir, "--once")
	if st, lerr := state.Load(stateDir); err != nil || lerr != nil || !st.Enrolled() || st.AckedSeq != 1 {
		t.Errorf("parc-agent with a list of replicas, the first down: %v; state %+v (%v)\n%s", err, st, lerr, stderr)
	}
	var u adminapi.Unit
	if code, body := call(t, servers[1], http.MethodGet, adminapi.PathUnits+"/"+a.ID, nil, &u); code != http.StatusOK || u.ReportSeq != 1 {
		t.Errorf("unit through the third replica: %d %s", code, body)
	}

	t.Run("add and remove a member", func(t *testing.T) {
		peer := fmt.Sprintf("http://127.0.0.1:%d", servertest.FreePort(t))
		var added adminapi.MemberAdded
		// etcd refuses while its members have been connected less than
		// 5 s: the API says so, and the operator retries.
		retry(t, 15*time.Second, "adding m4", func() (int, string) {
			return call(t, servers[0], http.MethodPost, adminapi.PathClusterMembers, adminapi.MemberAddRequest{Name: "m4", PeerURL: peer}, &added)
		}, http.StatusCreated)
		if added.InitialClusterState != "existing" || !strings.Contains(added.InitialCluster, "m4="+peer) || strings.Count(added.InitialCluster, "=") != 4 {
			t.Fatalf("added: %+v", added)
		}
		m4 := servertest.StartServer(t, servertest.Options{ReplicaOf: servers[0], Member: &servertest.Member{
			Name: "m4", PeerURL: peer, InitialCluster: added.InitialCluster, State: added.InitialClusterState}})
		st := waitStatus(t, m4, 20*time.Second, "m4 healthy", func(st adminapi.ClusterStatus) bool { return healthy(st) == 4 })
		if st.Replica != "m4" || len(st.Members) != 4 {
			t.Errorf("through m4: %+v", st)
		}
		if resp, err := a.Send(ctx); err != nil || !resp.Accepted {
			t.Errorf("check-in with four members: %+v %v", resp, err)
		}
		var removed adminapi.EtcdMember
		retry(t, 15*time.Second, "removing m4", func() (int, string) {
			return call(t, servers[1], http.MethodDelete, adminapi.PathClusterMembers+"/m4", nil, &removed)
		}, http.StatusOK)
		if removed.Name != "m4" {
			t.Errorf("removed %+v", removed)
		}
		waitStatus(t, servers[0], 10*time.Second, "three members again", func(st adminapi.ClusterStatus) bool { return len(st.Members) == 3 && healthy(st) == 3 })
		// The removed member's etcd stops: its parc-server is no longer ready.
		for deadline := time.Now().Add(15 * time.Second); ; {
			resp, err := m4.HTTPClient().Get(m4.URL + "/readyz")
			if err != nil || resp.StatusCode != http.StatusOK {
				if err == nil {
					resp.Body.Close()
				}
				break
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatal("m4 still ready 15 s after its removal")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if _, stderr, err := servertest.RunErr(t, servers[2].Env(), "parcctl", "cluster", "remove-member", "m4"); err == nil || !strings.Contains(stderr, "404") {
			t.Errorf("removing m4 twice: %v %s, want a 404", err, stderr)
		}
		m4.Kill()
	})
}
