package store_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

type rec struct {
	Name string `json:"name"`
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCacheFollowsEtcd(t *testing.T) {
	e := servertest.StartEtcd(t)
	s := store.New(servertest.Client(t, e.Endpoint), "/t")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Some records before the cache starts (the list), more after (the watch).
	for _, id := range []string{"a", "b"} {
		if err := s.Put(ctx, s.Key("things", id), rec{Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	s.Client.Put(ctx, s.Key("things", "bad"), "not json") // skipped, not fatal
	c := store.NewCache[rec](s, "things", slog.New(slog.NewTextHandler(io.Discard, nil)))
	go c.Run(ctx)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("a"); !ok || v.Name != "a" || c.Len() != 2 {
		t.Fatalf("after list: a=%v %v, len %d", v, ok, c.Len())
	}
	s.Put(ctx, s.Key("things", "c"), rec{Name: "c"})
	s.Put(ctx, s.Key("things", "a"), rec{Name: "a2"})
	s.Client.Delete(ctx, s.Key("things", "b"))
	eventually(t, "watch applied", func() bool {
		a, _ := c.Get("a")
		_, hasB := c.Get("b")
		_, hasC := c.Get("c")
		return a.Name == "a2" && !hasB && hasC
	})
	// Load reads through to etcd for what the cache has not seen.
	if _, err := c.Load(ctx, "nope"); err != store.ErrNotFound {
		t.Errorf("Load of a missing record: %v, want ErrNotFound", err)
	}
}

func TestPutIfRevision(t *testing.T) {
	e := servertest.StartEtcd(t)
	s := store.New(servertest.Client(t, e.Endpoint), "/t")
	ctx := context.Background()
	key := s.Key("things", "x")
	if err := s.Create(ctx, key, rec{"1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, key, rec{"2"}); err == nil {
		t.Fatal("Create over an existing key succeeded")
	}
	var got rec
	rev, err := s.Get(ctx, key, &got)
	if err != nil || got.Name != "1" {
		t.Fatal(got, err)
	}
	if err := s.PutIfRevision(ctx, key, rec{"3"}, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfRevision(ctx, key, rec{"4"}, rev); err == nil {
		t.Fatal("a write on a stale revision succeeded")
	}
	n := 0
	for i := range 5 {
		s.Put(ctx, s.Key("list", string(rune('a'+i))), rec{})
	}
	if _, err := s.ListFrom(ctx, s.Prefix("list"), s.Key("list", "b"), 2, func(store.KV) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("ListFrom after b, limit 2: %d keys (%v)", n, err)
	}
}
