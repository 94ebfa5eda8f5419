package defrag

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/servertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

// TestDefragmentsOnlyWhenItPays fills etcd, deletes and compacts it, and
// checks that the job leaves a member alone while too little is free, then
// shrinks its file once enough is.
func TestDefragmentsOnlyWhenItPays(t *testing.T) {
	ctx := context.Background()
	e := servertest.StartEtcd(t)
	cli := servertest.Client(t, e.Endpoint)
	value := strings.Repeat("x", 8<<10)
	for i := range 1000 {
		if _, err := cli.Put(ctx, fmt.Sprintf("/t/k%04d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	size := func() (int64, int64) {
		st, err := cli.Status(ctx, e.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		return st.DbSize, st.DbSizeInUse
	}
	job := &Job{Client: cli, MinFreeBytes: 1 << 20, MinFreeFraction: 0.25, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// Full of live data: nothing to gain.
	if n, err := job.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("with nothing free: %d defragmented (%v), want 0", n, err)
	}
	resp, err := cli.Delete(ctx, "/t/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	before, inUse := size()
	if before-inUse < 1<<20 {
		t.Fatalf("after deleting and compacting, only %d of %d bytes free", before-inUse, before)
	}
	// Too high a bar: still nothing.
	job.MinFreeBytes = before
	if n, err := job.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("below MinFreeBytes: %d defragmented (%v), want 0", n, err)
	}
	job.MinFreeBytes = 1 << 20
	if n, err := job.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("with %d of %d bytes free: %d defragmented (%v), want 1", before-inUse, before, n, err)
	}
	if after, _ := size(); after >= before-(1<<20) {
		t.Errorf("database %d bytes after defragmenting, was %d", after, before)
	}
}
