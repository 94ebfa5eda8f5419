package inventory

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
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

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }

func newInventory(t *testing.T) (*Inventory, *store.Store, *clock) {
	t.Helper()
	e := servertest.StartEtcd(t)
	s := store.New(servertest.Client(t, e.Endpoint), "/t")
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC).UnixNano())
	return New(s, slog.New(slog.NewTextHandler(io.Discard, nil)), c.now), s, c
}

// dump returns every key and value under the store's root except the
// generation key (whose revision moves with any write attempt).
func dump(t *testing.T, s *store.Store) map[string]string {
	t.Helper()
	resp, err := s.Client.Get(context.Background(), s.Root(), clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		if !strings.HasSuffix(string(kv.Key), "meta/inventory-gen") {
			out[string(kv.Key)] = string(kv.Value)
		}
	}
	return out
}

func importFile(t *testing.T, inv *Inventory, name string, dryRun bool) ImportResult {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := inv.Import(context.Background(), f, ImportOptions{DryRun: dryRun, By: "test"})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return res
}

func TestImportExample(t *testing.T) {
	inv, s, _ := newInventory(t)
	const example = "../../configs/examples/inventory.csv"

	dry := importFile(t, inv, example, true)
	if dry.Created != 18 || len(dump(t, s)) != 0 {
		t.Fatalf("dry run: %+v, and %d keys written", dry, len(dump(t, s)))
	}
	res := importFile(t, inv, example, false)
	if res.Created != 18 || len(res.SitesCreated) != 2 || len(res.ClassroomsCreated) != 5 || len(res.CartsCreated) != 1 {
		t.Fatalf("import: %+v", res)
	}
	before := dump(t, s)
	again := importFile(t, inv, example, false)
	if again.Unchanged != 18 || again.Created+again.Updated != 0 {
		t.Errorf("re-import: %+v, want 18 unchanged", again)
	}
	if after := dump(t, s); !equalMaps(before, after) {
		t.Errorf("re-import changed etcd")
	}

	// A changed row updates its unit, and only it.
	data, _ := os.ReadFile(example)
	changed := strings.Replace(string(data), "LP-0005,PF3A0005,Lenovo ThinkPad L14", "LP-0005,PF3A0005,Lenovo ThinkPad L15", 1)
	res, err := inv.Import(context.Background(), strings.NewReader(changed), ImportOptions{})
	if err != nil || res.Updated != 1 || res.Unchanged != 17 || res.Changes[0].AssetTag != "LP-0005" || res.Changes[0].Fields[0] != "model" {
		t.Fatalf("changed row: %+v %v", res, err)
	}

	// Export writes the same format back: importing it changes nothing.
	snap, err := inv.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "fr"} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, snap, lang); err != nil {
			t.Fatal(err)
		}
		res, err := inv.Import(context.Background(), &buf, ImportOptions{DryRun: true})
		if err != nil || res.Unchanged != 18 || len(res.Errors) > 0 {
			t.Errorf("export (%s) read back: %+v %v", lang, res, err)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBadFileImportsNothing(t *testing.T) {
	inv, s, _ := newInventory(t)
	importFile(t, inv, "../../configs/examples/inventory.csv", false)
	before := dump(t, s)
	res := importFile(t, inv, "testdata/bad-rows.csv", false)
	want := map[int]string{
		3: "unknown role",
		4: "already on line 2",
		5: "beyond cart C1's 4 slots",
		6: "also holds [LP-1]",
		7: "asset tag",
		8: "site",
		9: "slot",
	}
	got := map[int]string{}
	for _, e := range res.Errors {
		got[e.Line] += e.Message + ";"
	}
	for line, msg := range want {
		if !strings.Contains(got[line], msg) {
			t.Errorf("line %d: errors %q, want one containing %q", line, got[line], msg)
		}
	}
	if _, bad := got[2]; len(got) != len(want) || bad {
		// Line 2 (LP-1) is right; only its slot-mate on line 6 is wrong...
		// unless the conflict is reported on both, which is fine too.
		if len(got) > len(want)+1 {
			t.Errorf("unexpected errors: %+v", got)
		}
	}
	if after := dump(t, s); !equalMaps(before, after) {
		t.Error("a file with bad rows changed the inventory")
	}
}

func TestImportLargerThanOneTransaction(t *testing.T) {
	inv, s, _ := newInventory(t)
	var b strings.Builder
	b.WriteString("asset_tag,serial,site,role\n")
	const n = 1234 // a dozen transactions
	for i := range n {
		b.WriteString("T-" + itoa(i) + ",SER" + itoa(i) + ",site-" + itoa(i%7) + ",loaner\n")
	}
	var phases []string
	res, err := inv.Import(context.Background(), strings.NewReader(b.String()), ImportOptions{
		Progress: func(p Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		}})
	if err != nil || res.Created != n {
		t.Fatalf("import: %+v %v", res, err)
	}
	if strings.Join(phases, ",") != "parsing,validating,applying,done" {
		t.Errorf("progress phases %v", phases)
	}
	resp, _ := s.Client.Get(context.Background(), s.Prefix(store.KindDeclared), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != n {
		t.Errorf("%d units in etcd, want %d", resp.Count, n)
	}
	if left := dumpPrefix(t, s, s.Prefix(store.KindImports)); len(left) != 0 {
		t.Errorf("journal left behind: %v", left)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func dumpPrefix(t *testing.T, s *store.Store, prefix string) []string {
	resp, err := s.Client.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	return keys
}

// TestRecoverFinishesADeadImport stages an import and "dies" after applying
// part of it; another replica's Recover must finish it, all of it.
func TestRecoverFinishesADeadImport(t *testing.T) {
	inv, s, clk := newInventory(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("asset_tag,site,role\n")
	for i := range 250 {
		b.WriteString("U-" + itoa(i) + ",s1,loaner\n")
	}
	rows, _, _, err := ParseCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := inv.acquire(ctx, "dying importer")
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := inv.Snapshot(ctx)
	var res ImportResult
	ops, err := inv.plan(rows, nil, snap, &res)
	if err != nil || len(ops) != 251 {
		t.Fatalf("plan: %d ops, %v", len(ops), err)
	}
	// Stage everything and apply only the first chunk, as if the importer
	// died right after it.
	dying := *lock
	ctxDie, cancel := context.WithCancel(ctx)
	applied := 0
	_ = dying.apply(ctxDie, ops, func(p Progress) {
		applied = p.Done
		cancel()
	})
	if applied == 0 || applied == len(ops) {
		t.Fatalf("applied %d of %d before dying", applied, len(ops))
	}
	// Meanwhile other writes wait.
	if err := inv.PutSite(ctx, Site{ID: "other"}, Create); err != ErrImportInProgress {
		t.Errorf("write during an import: %v, want ErrImportInProgress", err)
	}
	// A live importer is left alone...
	if err := inv.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	// The first chunk held the new site and 99 units.
	if n := len(dumpPrefix(t, s, s.Prefix(store.KindDeclared))); n != applied-1 {
		t.Fatalf("recover touched a live import: %d units", n)
	}
	// ...a dead one is finished.
	clk.add(staleImport + time.Second)
	if err := inv.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(dumpPrefix(t, s, s.Prefix(store.KindDeclared))); n != 250 {
		t.Errorf("after recovery %d units, want all 250", n)
	}
	if left := dumpPrefix(t, s, s.Prefix(store.KindImports)); len(left) != 0 {
		t.Errorf("journal left behind: %v", left)
	}
	if err := inv.PutSite(ctx, Site{ID: "other"}, Create); err != nil {
		t.Errorf("write after recovery: %v", err)
	}
}

func TestWritesAreChecked(t *testing.T) {
	inv, _, _ := newInventory(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inv.PutSite(ctx, Site{ID: "a"}, Create))
	must(inv.PutSite(ctx, Site{ID: "b"}, Create))
	must(inv.PutCart(ctx, Cart{ID: "c1", Site: "a", Slots: 2}, Create))
	must(inv.PutUnit(ctx, Unit{AssetTag: "U1", Site: "a", Role: "loaner", Cart: "c1", Slot: 1}, Create))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"site twice", inv.PutSite(ctx, Site{ID: "a"}, Create), "already exists"},
		{"unknown site", inv.PutUnit(ctx, Unit{AssetTag: "U2", Site: "z", Role: "loaner"}, Create), `unknown site "z"`},
		{"slot taken", inv.PutUnit(ctx, Unit{AssetTag: "U2", Site: "a", Role: "loaner", Cart: "c1", Slot: 1}, Create), "already holds unit U1"},
		{"slot beyond", inv.PutUnit(ctx, Unit{AssetTag: "U2", Site: "a", Role: "loaner", Cart: "c1", Slot: 3}, Create), "beyond cart c1"},
		{"cart at another site", inv.PutUnit(ctx, Unit{AssetTag: "U2", Site: "b", Role: "loaner", Cart: "c1", Slot: 2}, Create), "cart c1 is at site a"},
		{"shrink cart under a unit", inv.PutCart(ctx, Cart{ID: "c1", Site: "a", Slots: 0}, Update), "slots"},
		{"delete used site", inv.Delete(ctx, "site", "a"), "still used"},
		{"update missing unit", inv.PutUnit(ctx, Unit{AssetTag: "U9", Site: "a", Role: "loaner"}, Update), "not found"},
		{"bad role", inv.PutUnit(ctx, Unit{AssetTag: "U2", Site: "a", Role: "robot"}, Create), "unknown role"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, tt.err, tt.want)
		}
	}
	// The assigned site places a unit: a cart at that site accepts it.
	must(inv.PutCart(ctx, Cart{ID: "c2", Site: "b", Slots: 4}, Create))
	must(inv.PutUnit(ctx, Unit{AssetTag: "U3", Site: "a", AssignedSite: "b", Role: "loaner", Cart: "c2", Slot: 1}, Create))
}
