package lastseen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

func TestFlushCoalescesAndBatches(t *testing.T) {
	e := servertest.StartEtcd(t)
	cli := servertest.Client(t, e.Endpoint)
	s := store.New(cli, "/t")
	c := New(s, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))

	base := time.Unix(1_800_000_000, 0)
	const agents = 1000 // several transactions of MaxTxnOps
	for i := range agents {
		id := fmt.Sprintf("a%04d", i)
		c.Touch(id, base.Add(time.Duration(i)*time.Second))
		c.Touch(id, base) // an older time does not win
	}
	if got, ok := c.Pending("a0010"); !ok || !got.Equal(base.Add(10*time.Second)) {
		t.Errorf("pending a0010 = %v %v", got, ok)
	}
	before, _ := cli.Get(context.Background(), "x")
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := cli.Get(context.Background(), "x")
	resp, err := cli.Get(context.Background(), s.Prefix(store.KindLastSeen), clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != agents {
		t.Fatalf("%d keys in etcd (%v), want %d", len(resp.Kvs), err, agents)
	}
	for _, kv := range resp.Kvs {
		id := s.IDFromKey(store.KindLastSeen, string(kv.Key))
		var i int
		fmt.Sscanf(id, "a%d", &i)
		got, err := Parse(kv.Value)
		if err != nil || !got.Equal(base.Add(time.Duration(i)*time.Second)) {
			t.Errorf("%s = %v (%v)", id, got, err)
		}
	}
	// One revision per transaction, not per agent.
	txns := after.Header.Revision - before.Header.Revision
	if want := int64((agents + store.MaxTxnOps - 1) / store.MaxTxnOps); txns != want {
		t.Errorf("flush took %d revisions, want %d transactions", txns, want)
	}
	if _, ok := c.Pending("a0010"); ok {
		t.Error("still pending after a flush")
	}
}

func TestFailedFlushKeepsTimes(t *testing.T) {
	e := servertest.StartEtcd(t)
	cli := servertest.Client(t, e.Endpoint)
	c := New(store.New(cli, "/t"), time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Unix(1_800_000_000, 0)
	c.Touch("lp-1", now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // etcd unreachable, as far as this flush can tell
	if err := c.Flush(ctx); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	if got, ok := c.Pending("lp-1"); !ok || !got.Equal(now) {
		t.Errorf("after a failed flush lp-1 pending = %v %v, want kept", got, ok)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := cli.Get(context.Background(), "/t/v1/lastseen/lp-1"); len(resp.Kvs) != 1 {
		t.Error("kept time not written by the next flush")
	}
}
