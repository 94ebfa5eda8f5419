package audit_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

func TestRecordListFilterDelete(t *testing.T) {
	s := store.New(servertest.Client(t, servertest.StartEtcd(t).Endpoint), "/t")
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	log := audit.New(s, func() time.Time { return now })
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.KindUser, ID: "ab12", Name: "jdoe", Role: auth.RoleCoordinator})

	record := func(ctx context.Context, e audit.Entry) {
		t.Helper()
		if err := log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	record(ctx, audit.Entry{Action: "loan.create", Object: "loan/1", After: audit.Snapshot(map[string]string{"borrower": "s-1"})})
	if err := log.RecordRead(ctx, "borrower/s-1", "2 loans"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	record(context.Background(), audit.Entry{Action: "token.create", Object: "token/cd34"})
	op, err := log.Op(ctx, audit.Entry{Action: "loan.return", Object: "loan/1", Detail: strings.Repeat("d", 5000)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.Txn(ctx).Then(op).Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Op(ctx, audit.Entry{Action: "x"}); err == nil {
		t.Error("an entry without object was accepted")
	}

	all, next, err := log.List(ctx, audit.Filter{})
	if err != nil || next != "" || len(all) != 4 {
		t.Fatalf("list: %d entries, next %q, %v", len(all), next, err)
	}
	if all[0].Action != "loan.create" || all[0].Actor != "user:ab12 (jdoe)" || string(all[0].After) != `{"borrower":"s-1"}` {
		t.Errorf("first entry %+v", all[0])
	}
	if all[1].Action != audit.ActionPersonalDataRead || all[1].Object != "borrower/s-1" {
		t.Errorf("read entry %+v", all[1])
	}
	if all[2].Actor != audit.ActorSystem {
		t.Errorf("entry without principal: actor %q", all[2].Actor)
	}
	if len(all[3].Detail) > 1100 {
		t.Errorf("detail of %d bytes kept", len(all[3].Detail))
	}
	for i := 1; i < len(all); i++ {
		if !all[i].Time.After(all[i-1].Time) {
			t.Errorf("entries not in time order: %v then %v", all[i-1].Time, all[i].Time)
		}
	}

	count := func(f audit.Filter) int {
		t.Helper()
		got, _, err := log.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	start := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	for name, tt := range map[string]struct {
		f    audit.Filter
		want int
	}{
		"area":          {audit.Filter{Action: "loan"}, 2},
		"action":        {audit.Filter{Action: "loan.create"}, 1},
		"not a prefix":  {audit.Filter{Action: "loa"}, 0},
		"object kind":   {audit.Filter{Object: "borrower"}, 1},
		"object":        {audit.Filter{Object: "loan/1"}, 2},
		"actor":         {audit.Filter{Actor: "JDOE"}, 3},
		"since":         {audit.Filter{Since: start.Add(time.Minute)}, 3},
		"until":         {audit.Filter{Until: start.Add(time.Minute)}, 1},
		"since + until": {audit.Filter{Since: start.Add(time.Minute), Until: start.Add(3 * time.Minute)}, 2},
	} {
		if got := count(tt.f); got != tt.want {
			t.Errorf("%s: %d entries, want %d", name, got, tt.want)
		}
	}
	// Pages of 3 then 1.
	page, next, err := log.List(ctx, audit.Filter{Limit: 3})
	if err != nil || len(page) != 3 || next == "" {
		t.Fatalf("first page: %d %q %v", len(page), next, err)
	}
	rest, next2, err := log.List(ctx, audit.Filter{Limit: 3, After: next})
	if err != nil || len(rest) != 1 || next2 != "" || rest[0].ID != all[3].ID {
		t.Fatalf("second page: %+v %q %v", rest, next2, err)
	}

	n, err := log.DeleteBefore(ctx, start.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteBefore: %d, %v; want 2", n, err)
	}
	if n, _ := log.DeleteBefore(ctx, start.Add(2*time.Minute)); n != 0 {
		t.Errorf("second DeleteBefore deleted %d", n)
	}
	if got := count(audit.Filter{}); got != 2 {
		t.Errorf("%d entries left, want 2", got)
	}
}
