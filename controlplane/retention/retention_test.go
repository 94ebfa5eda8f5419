package retention_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/retention"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

const year = 365 * 24 * time.Hour

// TestRetentionWithFakeClock lives a year and a half on a fake clock: what
// is older than the retention period goes, what is younger stays, and a
// second run changes nothing.
func TestRetentionWithFakeClock(t *testing.T) {
	s := store.New(servertest.Client(t, servertest.StartEtcd(t).Endpoint), "/t")
	ctx := context.Background()
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { return now }
	log := audit.New(s, clock)
	reports := agents.NewReports(s, 100)
	enroll := auth.NewEnrollTokens(s, clock)

	report := func(agent string, seq uint64) {
		t.Helper()
		r := &agentapi.Report{Schema: 1, Seq: seq, CollectedAt: now, Host: agentapi.HostFacts{Hostname: agent}}
		r.Fingerprint = r.ComputeFingerprint()
		if _, err := reports.Store(ctx, agent, r, now); err != nil {
			t.Fatal(err)
		}
	}
	// January: old things.
	for i := range 3 {
		log.Record(ctx, audit.Entry{Action: "token.create", Object: "token/old"})
		report("lp-old", uint64(i+1))
		report("lp-both", uint64(i+1))
		now = now.Add(time.Hour)
	}
	_, expiring, _ := enroll.Create(ctx, auth.EnrollToken{}, time.Hour)
	_, revoked, _ := enroll.Create(ctx, auth.EnrollToken{}, 0)
	if tok, rev, err := enroll.Get(ctx, revoked.ID); err == nil {
		enroll.Revoke(ctx, tok, rev, "test", nil)
	}
	_, forever, _ := enroll.Create(ctx, auth.EnrollToken{}, 0)
	// August: young things.
	now = start.Add(220 * 24 * time.Hour)
	log.Record(ctx, audit.Entry{Action: "loan.create", Object: "loan/young"})
	report("lp-both", 4)
	report("lp-young", 1)

	job := &retention.Job{Period: year, Interval: time.Hour, Now: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sweepers: []retention.Sweeper{
			retention.Func("audit entries", log.DeleteBefore),
			retention.Func("report receipts", reports.DeleteReceiptsBefore),
			retention.Func("spent enroll tokens", enroll.DeleteDoneBefore),
		}}
	// Eleven months in, nothing is a year old.
	now = start.Add(330 * 24 * time.Hour)
	if err := job.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := keys(t, s, store.KindAudit); n != 4 {
		t.Fatalf("before a year: %d audit entries, want all 4", n)
	}

	// A year and a month in: January is gone, August stays.
	now = start.Add(year + 30*24*time.Hour)
	if err := job.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	entries, _, _ := log.List(ctx, audit.Filter{})
	if len(entries) != 1 || entries[0].Object != "loan/young" {
		t.Errorf("audit after a year: %+v, want only the August entry", entries)
	}
	for agent, want := range map[string]int{"lp-old": 0, "lp-both": 1, "lp-young": 1} {
		rcs, err := reports.Receipts(ctx, agent)
		if err != nil || len(rcs) != want {
			t.Errorf("%s: %d receipts (%v), want %d", agent, len(rcs), err, want)
		}
	}
	// The latest report of each unit is its current state, not history.
	if _, err := reports.Observed(ctx, "lp-old"); err != nil {
		t.Errorf("observed state of lp-old deleted: %v", err)
	}
	for id, wantKept := range map[string]bool{expiring.ID: false, revoked.ID: false, forever.ID: true} {
		_, _, err := enroll.Get(ctx, id)
		if kept := err == nil; kept != wantKept {
			t.Errorf("enroll token %s kept = %v (%v), want %v", id, kept, err, wantKept)
		}
	}

	// Idempotent: running again (another replica, the next interval)
	// deletes nothing more.
	before := keys(t, s, "")
	if err := job.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if after := keys(t, s, ""); after != before {
		t.Errorf("second run changed the key count from %d to %d", before, after)
	}
}

func TestRetentionGoesOnPastAFailingSweeper(t *testing.T) {
	ran := false
	job := &retention.Job{Period: year, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sweepers: []retention.Sweeper{
			retention.Func("broken", func(context.Context, time.Time) (int64, error) { return 0, errors.New("etcd down") }),
			retention.Func("fine", func(_ context.Context, cutoff time.Time) (int64, error) {
				ran = time.Since(cutoff) >= year
				return 0, nil
			}),
		}}
	err := job.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "broken") || !ran {
		t.Errorf("err %v, later sweeper ran with a year's cutoff: %v", err, ran)
	}
}

// TestRunStopsWithItsContext: the reconciler will run the job under its
// leadership context; losing leadership must stop it.
func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	job := &retention.Job{Period: year, Interval: time.Hour, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() { job.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func keys(t *testing.T, s *store.Store, kind string) int {
	t.Helper()
	prefix := s.Root()
	if kind != "" {
		prefix = s.Prefix(kind)
	}
	n := 0
	if _, err := s.List(context.Background(), prefix, func(store.KV) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
