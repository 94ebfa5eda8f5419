package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// benchUnits is the fleet size of the reconciler benchmarks: a large
// service centre.
const benchUnits = 100_000

// fleet is a store holding benchUnits declared units, each with an
// enrolled agent and a report; most pass the loaner rules, every tenth
// fails one.
type fleet struct {
	store *store.Store
	inv   *inventory.Inventory
	reg   *agents.Registry
	stop  func()
}

func loadFleet(b *testing.B, n int) *fleet {
	b.Helper()
	e := servertest.StartEtcd(b)
	s := store.New(servertest.Client(b, e.Endpoint), "/bench")
	ctx := context.Background()
	now := time.Now()
	var ops []clientv3.Op
	put := func(key string, v any) {
		data, err := store.Encode(v)
		if err != nil {
			b.Fatal(err)
		}
		ops = append(ops, clientv3.OpPut(key, string(data)))
	}
	put(s.Key(store.KindSites, "site-0"), inventory.Site{ID: "site-0"})
	put(s.Key(store.KindSites, "site-1"), inventory.Site{ID: "site-1"})
	for i := range n {
		host := sim.Host(i)
		site := fmt.Sprintf("site-%d", i%2)
		tag := fmt.Sprintf("LP-%06d", i)
		id := fmt.Sprintf("agent%06d", i)
		put(s.Key(store.KindDeclared, tag), inventory.Unit{AssetTag: tag, Serial: host.Serial, Site: site, Role: "loaner"})
		put(s.Key(store.KindAgents, id), agents.Agent{ID: id, Site: site, Role: "loaner", Hostname: host.Hostname, Serial: host.Serial, EnrolledAt: now})
		var r sim.Agent
		r.Report.Host = host
		sim.ReadyLoaner(&r.Report, now)
		if i%10 == 0 {
			r.Report.Battery.Batteries[0].HealthPercent = 61
		}
		r.Report.Seq, r.Report.CollectedAt, r.Report.Schema = 1, now, 1
		r.Report.Fingerprint = r.Report.ComputeFingerprint()
		put(s.Key(store.KindObserved, id), agents.Observed{ReceivedAt: now, Report: r.Report})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for start := 0; start < len(ops); start += 1000 {
		chunk := ops[start:min(start+1000, len(ops))]
		g.Go(func() error { return s.Commit(gctx, chunk) })
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fleet{store: s, inv: inventory.New(s, log, time.Now), reg: agents.NewRegistry(s, log, time.Now, 90*24*time.Hour)}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f.inv.Run(cctx) }()
	go func() { defer wg.Done(); f.reg.Cache().Run(cctx) }()
	f.stop = func() { cancel(); wg.Wait() }
	if err := f.inv.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	if err := f.reg.Cache().WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	return f
}

// leaderFor builds the leader's state over the fleet, caches filled, as a
// replica has it right after it was elected.
func (f *fleet) leaderFor(b *testing.B, r *Reconciler) (*leaderRun, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	observed := store.NewCacheFunc(f.store, store.KindObserved, decodeObserved, r.log)
	seen := store.NewCacheFunc(f.store, store.KindLastSeen, decodeLastSeen, r.log)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); observed.Run(ctx) }()
	go func() { defer wg.Done(); seen.Run(ctx) }()
	observed.WaitReady(ctx)
	seen.WaitReady(ctx)
	l := &leaderRun{r: r, fence: clientv3.Compare(clientv3.Version(f.store.Root()+"nothing"), "=", 0),
		cur: map[string]*Status{}, sums: summaries{}, sumRaw: map[string][]byte{},
		src: &cacheSource{units: f.inv.Units, agents: f.reg.Cache(), observed: observed, seen: seen}}
	if err := l.load(ctx); err != nil {
		b.Fatal(err)
	}
	return l, func() { cancel(); wg.Wait() }
}

// BenchmarkFullPass measures one full reconciliation pass over 100,000
// units whose reports are in etcd: matching, judging every unit, and
// writing what changed. "first" matches and writes every status (a fresh
// deployment, or a new leader); "steady" is the periodic resync: every unit
// judged again on the current match, nothing changed.
//
//	go test -run '^$' -bench FullPass -benchtime 3x ./controlplane/reconcile
func BenchmarkFullPass(b *testing.B) {
	f := loadFleet(b, benchUnits)
	defer f.stop()
	r := New(f.store, f.inv, f.reg, rules(b), Config{Name: "bench"}, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := f.store.Client.Delete(context.Background(), f.store.Prefix(KindStatus), clientv3.WithPrefix()); err != nil {
				b.Fatal(err)
			}
			l, stop := f.leaderFor(b, r)
			b.StartTimer()
			if err := l.pass(context.Background(), batch{all: true}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if len(l.cur) != benchUnits {
				b.Fatalf("%d statuses, want %d", len(l.cur), benchUnits)
			}
			stop()
			b.StartTimer()
		}
		b.ReportMetric(float64(benchUnits), "units/pass")
	})
	b.Run("steady", func(b *testing.B) {
		l, stop := f.leaderFor(b, r)
		defer stop()
		if err := l.pass(context.Background(), batch{all: true}); err != nil { // the term's first pass
			b.Fatal(err)
		}
		for b.Loop() {
			before := r.writes.Load()
			if err := l.pass(context.Background(), batch{resync: true}); err != nil {
				b.Fatal(err)
			}
			if w := r.writes.Load() - before; w != 0 {
				b.Fatalf("steady pass wrote %d statuses", w)
			}
		}
		b.ReportMetric(float64(benchUnits), "units/pass")
	})
}

// BenchmarkReportToStatus measures how long one unit's new report takes to
// show in its status and its site's summary, with the leader running over
// 100,000 units: report written, watch event, judgement, writes.
//
//	go test -run '^$' -bench ReportToStatus -benchtime 20x ./controlplane/reconcile
func BenchmarkReportToStatus(b *testing.B) {
	f := loadFleet(b, benchUnits)
	defer f.stop()
	r := New(f.store, f.inv, f.reg, rules(b), Config{Name: "bench"}, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	// Wait for the first full pass.
	for r.Stats().Passes == 0 || r.Statuses.Len() < benchUnits {
		time.Sleep(100 * time.Millisecond)
	}
	statusKey := f.store.Key(KindStatus, "LP-000010")
	summaryKey := f.store.Key(KindSummaries, "site-0")
	obsKey := f.store.Key(store.KindObserved, "agent000010")
	var obs agents.Observed
	if _, err := f.store.Get(ctx, obsKey, &obs); err != nil {
		b.Fatal(err)
	}
	health := []float64{95, 61}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		obs.Report.Battery.Batteries[0].HealthPercent = health[i%2]
		obs.Report.Seq++
		w := f.store.Client.Watch(ctx, statusKey)
		ws := f.store.Client.Watch(ctx, summaryKey)
		if err := f.store.Put(ctx, obsKey, obs); err != nil {
			b.Fatal(err)
		}
		<-w
		<-ws
	}
}
