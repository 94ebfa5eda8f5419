package reconcile_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parc-project/parc/configs"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// TestLeadershipWork: work added with OnLeadership runs while the replica
// is elected, stops when its lease is lost, and runs again at the next
// term (how retention runs on one replica at a time).
func TestLeadershipWork(t *testing.T) {
	cli := servertest.Client(t, servertest.StartEtcd(t).Endpoint)
	s := store.New(cli, "/t")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rules, err := readiness.Parse(bytes.NewReader(configs.Readiness))
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.New(s, log, time.Now)
	reg := agents.NewRegistry(s, log, time.Now, 365*24*time.Hour)
	r := reconcile.New(s, inv, reg, rules, reconcile.Config{Name: "r1", SessionTTL: 2 * time.Second}, log, time.Now)
	terms := make(chan context.Context, 4)
	r.OnLeadership(func(ctx context.Context) {
		terms <- ctx
		<-ctx.Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, run := range []func(context.Context){inv.Run, reg.Cache().Run, r.Run} {
		go run(ctx)
	}
	first := waitTerm(t, terms)
	if name, err := r.Leader(ctx); err != nil || name != "r1" {
		t.Errorf("Leader during the term: %q, %v", name, err)
	}
	// Lose the lease, as a replica cut off from etcd does.
	leases, err := cli.Leases(context.Background())
	if err != nil || len(leases.Leases) == 0 {
		t.Fatalf("leases: %v %v", leases, err)
	}
	for _, l := range leases.Leases {
		cli.Revoke(context.Background(), l.ID)
	}
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("leadership work still running after the lease was lost")
	}
	second := waitTerm(t, terms)
	cancel()
	select {
	case <-second.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("leadership work still running after the server stopped")
	}
}

func waitTerm(t *testing.T, terms chan context.Context) context.Context {
	t.Helper()
	select {
	case ctx := <-terms:
		return ctx
	case <-time.After(20 * time.Second):
		t.Fatal("leadership work never started")
		return nil
	}
}
