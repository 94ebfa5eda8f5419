package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"golang.org/x/sync/errgroup"

	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/store"
)

// Keys the reconciler writes (see store/keys.go).
const (
	KindStatus    = "status"
	KindSummaries = "summaries"
	electionName  = "election/reconciler"
)

// Config tunes the reconciler.
type Config struct {
	// Name identifies this replica in the election.
	Name string
	// Resync is how often every unit is judged again even without events:
	// what time alone changes (stale, update age) shows within it. A pass
	// over 100,000 units costs well under a second, so a minute or two is
	// cheap.
	Resync time.Duration
	// SessionTTL is the leader's lease: if the leader dies, another replica
	// takes over within about this long.
	SessionTTL time.Duration
}

// Stats describe the reconciler for metrics.
type Stats struct {
	Leader       bool
	Passes       uint64
	LastPass     time.Duration
	LastPassSize int
	Writes       uint64
}

// Reconciler computes unit statuses and site summaries. Every replica runs
// one: all keep the status and summary caches the API reads; the elected
// one also computes and writes.
type Reconciler struct {
	store     *store.Store
	inventory *inventory.Inventory
	registry  *agents.Registry
	rules     *readiness.Rules
	cfg       Config
	log       *slog.Logger
	now       func() time.Time

	// Statuses and Summaries mirror what the leader wrote, for the API.
	Statuses  *store.Cache[Status]
	Summaries *store.Cache[Summary]

	// leaderWork runs beside reconciliation during each term (OnLeadership).
	leaderWork []func(context.Context)
	// dark, if set, tells the units silent because their site is dark.
	dark DarkSites

	mu             sync.Mutex
	queue          *queue                       // nil when not leader
	observed       *store.Cache[observedDigest] // nil when not leader
	onPass         func(time.Duration)
	leader         atomic.Bool
	passes, writes atomic.Uint64
	last           atomic.Int64 // duration of the last pass, ns
	size           atomic.Int64
}

// New returns a reconciler. It hooks the inventory's and registry's caches
// to learn of changes, so call it before those caches run.
func New(s *store.Store, inv *inventory.Inventory, reg *agents.Registry, rules *readiness.Rules, cfg Config, log *slog.Logger, now func() time.Time) *Reconciler {
	if cfg.Resync <= 0 {
		cfg.Resync = 2 * time.Minute
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 10 * time.Second
	}
	r := &Reconciler{store: s, inventory: inv, registry: reg, rules: rules, cfg: cfg, log: log.With("component", "reconciler"), now: now,
		Statuses:  store.NewCache[Status](s, KindStatus, log),
		Summaries: store.NewCache[Summary](s, KindSummaries, log),
	}
	inv.Units.OnChange(func(id string) { r.enqueue(func(q *queue) { q.tag(id) }) })
	reg.Cache().OnChange(func(id string) { r.enqueue(func(q *queue) { q.agent(id) }) })
	return r
}

// OnLeadership adds work that must run on one replica at a time, such as
// retention: fn starts each time this replica is elected, with a context
// that ends when its leadership does (lost, resigned, or the server
// stopping). Call it before Run.
func (r *Reconciler) OnLeadership(fn func(ctx context.Context)) {
	r.leaderWork = append(r.leaderWork, fn)
}

// UseDarkSites makes the reconciler mark the units of dark sites (see
// LiveSiteDark), and judge a site's agents again when it goes dark or
// comes back (onChange is how d announces it; "" means any site may
// have: everything is judged again). Call it before Run.
func (r *Reconciler) UseDarkSites(d DarkSites, onChange func(fn func(site string))) {
	r.dark = d
	onChange(func(site string) {
		if site == "" {
			r.enqueue(func(q *queue) { q.resync = true })
			return
		}
		var ids []string
		r.registry.Cache().Range(func(id string, a agents.Agent) bool {
			if a.Site == site {
				ids = append(ids, id)
			}
			return true
		})
		r.enqueue(func(q *queue) {
			for _, id := range ids {
				q.agent(id)
			}
		})
	})
}

// Rules are the readiness rules the reconciler judges with.
func (r *Reconciler) Rules() *readiness.Rules { return r.rules }

// Stats returns the reconciler's figures.
func (r *Reconciler) Stats() Stats {
	return Stats{Leader: r.leader.Load(), Passes: r.passes.Load(), LastPass: time.Duration(r.last.Load()),
		LastPassSize: int(r.size.Load()), Writes: r.writes.Load()}
}

// ObservePasses makes fn receive the duration of every pass this replica
// makes while it leads (metrics). Call it before Run.
func (r *Reconciler) ObservePasses(fn func(time.Duration)) { r.onPass = fn }

// Facts returns a lookup of the facts of an agent's latest report, and
// true, while this replica leads: only the leader holds every agent's
// facts. On another replica it returns false.
func (r *Reconciler) Facts() (func(agentID string) *readiness.Facts, bool) {
	r.mu.Lock()
	obs := r.observed
	r.mu.Unlock()
	if obs == nil {
		return nil, false
	}
	return func(id string) *readiness.Facts {
		d, ok := obs.Get(id)
		if !ok {
			return nil
		}
		return d.Facts
	}, true
}

func (r *Reconciler) enqueue(fn func(*queue)) {
	r.mu.Lock()
	q := r.queue
	r.mu.Unlock()
	if q != nil {
		q.add(fn)
	}
}

// Run keeps the status and summary caches and campaigns for leadership
// until ctx ends; while elected it reconciles.
func (r *Reconciler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){r.Statuses.Run, r.Summaries.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	defer wg.Wait()
	delay := time.Second
	for ctx.Err() == nil {
		err := r.campaign(ctx)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("reconciler leadership lost or not obtained; campaigning again", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// Leader returns the name of the replica that reconciles now, as it
// campaigned ("" when none does: between terms, or no replica runs).
func (r *Reconciler) Leader(ctx context.Context) (string, error) {
	// What concurrency.Election.Leader reads: the oldest campaign key.
	resp, err := r.store.Client.Get(ctx, r.store.Root()+electionName+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("reading the reconciler election: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// WaitReady waits for the status and summary caches.
func (r *Reconciler) WaitReady(ctx context.Context) error {
	return errors.Join(r.Statuses.WaitReady(ctx), r.Summaries.WaitReady(ctx))
}

func (r *Reconciler) campaign(ctx context.Context) error {
	session, err := concurrency.NewSession(r.store.Client, concurrency.WithTTL(int(r.cfg.SessionTTL.Seconds())), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("etcd session: %w", err)
	}
	defer session.Close()
	election := concurrency.NewElection(session, r.store.Root()+electionName)
	if err := election.Campaign(ctx, r.cfg.Name); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	// Leader work stops the moment the session's lease is lost.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-session.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	r.leader.Store(true)
	defer r.leader.Store(false)
	r.log.Info("this replica reconciles now", "name", r.cfg.Name)
	var work sync.WaitGroup
	for _, fn := range r.leaderWork {
		work.Add(1)
		go func() { defer work.Done(); fn(lctx) }()
	}
	// The term's work ends with the term: cancel, then wait for it.
	defer func() { cancel(); work.Wait() }()
	err = r.lead(lctx, clientv3.Compare(clientv3.CreateRevision(election.Key()), "=", election.Rev()))
	if ctx.Err() == nil {
		// Let another replica take over promptly, not after the lease.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = election.Resign(rctx)
		rcancel()
	}
	return err
}

// leaderRun is the state of one term of leadership.
type leaderRun struct {
	r     *Reconciler
	fence clientv3.Cmp // true only while this term's election key exists
	src   *cacheSource
	match Match
	// What the match was computed from: a change of identity (a serial
	// entered, a report with another UUID) calls for matching again; a new
	// last-seen time or report of the same machine does not.
	agentIDs map[string]Identity
	unitIDs  map[string]string
	cur      map[string]*Status // status id → what etcd holds
	sums     summaries
	sumRaw   map[string][]byte
}

func (r *Reconciler) lead(ctx context.Context, fence clientv3.Cmp) error {
	q := newQueue()
	q.all = true
	observed := store.NewCacheFunc(r.store, store.KindObserved, decodeObserved, r.log)
	r.mu.Lock()
	r.queue, r.observed = q, observed
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.queue, r.observed = nil, nil
		r.mu.Unlock()
	}()

	observed.OnChange(func(id string) { q.add(func(q *queue) { q.agent(id) }) })
	seen := store.NewCacheFunc(r.store, store.KindLastSeen, decodeLastSeen, r.log)
	seen.OnChange(func(id string) { q.add(func(q *queue) { q.agent(id) }) })
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, run := range []func(context.Context){observed.Run, seen.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(cctx) }()
	}
	if err := errors.Join(observed.WaitReady(ctx), seen.WaitReady(ctx), r.inventory.Units.WaitReady(ctx), r.registry.Cache().WaitReady(ctx)); err != nil {
		return err
	}

	l := &leaderRun{r: r, fence: fence, cur: map[string]*Status{}, sums: summaries{}, sumRaw: map[string][]byte{},
		src: &cacheSource{units: r.inventory.Units, agents: r.registry.Cache(), observed: observed, seen: seen}}
	if err := l.load(ctx); err != nil {
		return err
	}
	resync := time.NewTicker(r.cfg.Resync)
	defer resync.Stop()
	for {
		if err := l.pass(ctx, q.take()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-resync.C:
			q.add(func(q *queue) { q.resync = true })
		case <-q.wake:
			// Let a burst of events gather into one batch.
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// load reads what statuses and summaries etcd holds, so that the first
// pass writes only what changed.
func (l *leaderRun) load(ctx context.Context) error {
	st := l.r.store
	_, err := st.List(ctx, st.Prefix(KindStatus), func(kv store.KV) error {
		var s Status
		if err := store.Decode(kv.Value, &s); err != nil {
			l.r.log.Warn("rewriting undecodable status", "key", kv.Key, "err", err)
			return nil
		}
		l.cur[s.ID] = &s
		l.sums.apply(nil, &s)
		return nil
	})
	if err != nil {
		return err
	}
	_, err = st.List(ctx, st.Prefix(KindSummaries), func(kv store.KV) error {
		l.sumRaw[st.IDFromKey(KindSummaries, kv.Key)] = bytes.Clone(kv.Value)
		return nil
	})
	return err
}

// pass judges the units a batch of changes touches and writes what changed.
func (l *leaderRun) pass(ctx context.Context, b batch) error {
	if b.empty() {
		return nil
	}
	start := time.Now()
	if l.match.ByTag == nil {
		b.all = true // nothing matched yet this term
	}
	ids := make(map[string]bool, len(b.tags)+len(b.agents))
	if b.resync && !b.all {
		// Time alone changes statuses (stale, update age): judge every unit
		// again on the current match, which events keep up to date.
		ids = make(map[string]bool, len(l.cur)+l.src.units.Len()+l.src.agents.Len())
		for id := range l.cur {
			ids[id] = true
		}
		l.src.units.Range(func(tag string, _ inventory.Unit) bool { ids[tag] = true; return true })
		l.src.agents.Range(func(id string, _ agents.Agent) bool { ids[id] = true; return true })
	}
	if b.all || l.identityChanged(b) {
		old := l.match
		declared, idents := l.src.declared(), l.src.identities()
		l.match = MatchAll(declared, idents)
		l.agentIDs, l.unitIDs = idents, map[string]string{}
		for tag, u := range declared {
			l.unitIDs[tag] = unitIdentity(u)
		}
		if b.all {
			ids = make(map[string]bool, len(l.cur)+len(declared)+len(idents))
			for id := range l.cur {
				ids[id] = true
			}
			l.src.units.Range(func(tag string, _ inventory.Unit) bool { ids[tag] = true; return true })
			l.src.agents.Range(func(id string, _ agents.Agent) bool { ids[id] = true; return true })
		} else {
			l.changedMatches(old, ids)
		}
	}
	for tag := range b.tags {
		ids[tag] = true
		for _, a := range l.match.ByTag[tag] {
			ids[a] = true
		}
	}
	for a := range b.agents {
		ids[a] = true
		for _, tag := range l.match.ByAgent[a].Tags {
			ids[tag] = true
			for _, other := range l.match.ByTag[tag] {
				ids[other] = true
			}
		}
	}

	w := &World{Src: l.src, Match: l.match, Rules: l.r.rules, Now: l.r.now(), Dark: l.r.dark}
	var ops []clientv3.Op
	changedSites := map[string]bool{}
	type change struct {
		id  string
		new *Status
	}
	var changes []change
	for id := range ids {
		s := w.StatusOf(id)
		old := l.cur[id]
		switch {
		case s == nil && old == nil:
			continue
		case s == nil:
			ops = append(ops, clientv3.OpDelete(l.r.store.Key(KindStatus, id)))
			changes = append(changes, change{id, nil})
		case old != nil && s.equal(old):
			continue
		default:
			raw, err := store.Encode(s)
			if err != nil {
				return err
			}
			ops = append(ops, clientv3.OpPut(l.r.store.Key(KindStatus, id), string(raw)))
			changes = append(changes, change{id, s})
		}
	}
	if err := l.commit(ctx, ops); err != nil {
		return err
	}
	for _, c := range changes {
		old := l.cur[c.id]
		if c.new != nil {
			l.cur[c.id] = c.new
		} else {
			delete(l.cur, c.id)
		}
		for _, site := range l.sums.apply(old, c.new) {
			changedSites[site] = true
		}
	}
	if b.all || b.resync {
		// Also rewrite summaries etcd holds that disagree (a previous leader
		// died between writing statuses and summaries).
		for site := range l.sumRaw {
			changedSites[site] = true
		}
		for site := range l.sums {
			changedSites[site] = true
		}
	}
	if err := l.writeSummaries(ctx, changedSites); err != nil {
		return err
	}
	l.r.passes.Add(1)
	l.r.writes.Add(uint64(len(ops)))
	l.r.last.Store(int64(time.Since(start)))
	if l.r.onPass != nil {
		l.r.onPass(time.Since(start))
	}
	l.r.size.Store(int64(len(ids)))
	if len(ops) > 0 || b.all || b.resync {
		l.r.log.Debug("reconciled", "units", len(ids), "writes", len(ops), "full", b.all, "resync", b.resync, "duration", time.Since(start))
	}
	return nil
}

// identityChanged reports whether a unit or agent of the batch changed
// what matching reads.
func (l *leaderRun) identityChanged(b batch) bool {
	for tag := range b.tags {
		u, ok := l.src.Unit(tag)
		old, had := l.unitIDs[tag]
		if ok != had || (ok && unitIdentity(u) != old) {
			return true
		}
	}
	for a := range b.agents {
		v, ok := l.src.Agent(a)
		old, had := l.agentIDs[a]
		if ok != had || (ok && !sameIdentity(v.Identity, old)) {
			return true
		}
	}
	return false
}

func unitIdentity(u inventory.Unit) string {
	return CleanSerial(u.Serial) + "|" + CleanUUID(u.HardwareUUID) + "|" + CleanMAC(u.MAC)
}

func sameIdentity(a, b Identity) bool {
	return a.Serial == b.Serial && a.UUID == b.UUID && slices.Equal(a.MACs, b.MACs)
}

// changedMatches adds to ids every unit and agent whose match changed.
func (l *leaderRun) changedMatches(old Match, ids map[string]bool) {
	for a, m := range l.match.ByAgent {
		if om, ok := old.ByAgent[a]; !ok || !slices.Equal(om.Tags, m.Tags) || om.Rule != m.Rule {
			ids[a] = true
			for _, t := range m.Tags {
				ids[t] = true
			}
			for _, t := range om.Tags {
				ids[t] = true
			}
		}
	}
	for a, om := range old.ByAgent {
		if _, ok := l.match.ByAgent[a]; !ok {
			ids[a] = true
			for _, t := range om.Tags {
				ids[t] = true
			}
		}
	}
	for tag, as := range l.match.ByTag {
		if !slices.Equal(old.ByTag[tag], as) {
			ids[tag] = true
			for _, a := range as {
				ids[a] = true
			}
		}
	}
}

func (l *leaderRun) writeSummaries(ctx context.Context, sites map[string]bool) error {
	var ops []clientv3.Op
	raws := map[string][]byte{}
	for site := range sites {
		sum, ok := l.sums[site]
		if !ok {
			if _, held := l.sumRaw[site]; held {
				ops = append(ops, clientv3.OpDelete(l.r.store.Key(KindSummaries, site)))
				raws[site] = nil
			}
			continue
		}
		raw, err := store.Encode(sum)
		if err != nil {
			return err
		}
		if bytes.Equal(l.sumRaw[site], raw) {
			continue
		}
		ops = append(ops, clientv3.OpPut(l.r.store.Key(KindSummaries, site), string(raw)))
		raws[site] = raw
	}
	if err := l.commit(ctx, ops); err != nil {
		return err
	}
	for site, raw := range raws {
		if raw == nil {
			delete(l.sumRaw, site)
		} else {
			l.sumRaw[site] = raw
		}
	}
	return nil
}

// commitParallelism is how many write transactions run at once: etcd
// commits concurrent transactions together, so a few in flight multiply the
// write rate of a full pass.
const commitParallelism = 8

// commit writes ops in fenced transactions: none commits once this replica
// lost its leadership.
func (l *leaderRun) commit(ctx context.Context, ops []clientv3.Op) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(commitParallelism)
	for start := 0; start < len(ops); start += store.MaxTxnOps {
		chunk := ops[start:min(start+store.MaxTxnOps, len(ops))]
		g.Go(func() error {
			resp, err := l.r.store.Client.Txn(gctx).If(l.fence).Then(chunk...).Commit()
			if err != nil {
				return fmt.Errorf("writing statuses: %w", err)
			}
			if !resp.Succeeded {
				return errors.New("no longer the reconciler leader")
			}
			return nil
		})
	}
	return g.Wait()
}

// queue collects what changed until the leader takes a batch.
type queue struct {
	mu     sync.Mutex
	b      batch
	wake   chan struct{}
	all    bool
	resync bool
}

type batch struct {
	// all: match and judge everything (first pass, a cache listed anew);
	// resync: judge everything on the current match (the periodic pass).
	all, resync  bool
	tags, agents map[string]bool
}

func (b batch) empty() bool { return !b.all && !b.resync && len(b.tags) == 0 && len(b.agents) == 0 }

func newQueue() *queue {
	return &queue{wake: make(chan struct{}, 1), b: batch{tags: map[string]bool{}, agents: map[string]bool{}}}
}

func (q *queue) add(fn func(*queue)) {
	q.mu.Lock()
	fn(q)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// tag and agent record a change; called with q.mu held. "" means the
// cache listed everything anew.
func (q *queue) tag(id string) {
	if id == "" {
		q.all = true
		return
	}
	q.b.tags[id] = true
}

func (q *queue) agent(id string) {
	if id == "" {
		q.all = true
		return
	}
	q.b.agents[id] = true
}

func (q *queue) take() batch {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.b
	b.all, b.resync = b.all || q.all, q.resync
	q.all, q.resync = false, false
	q.b = batch{tags: map[string]bool{}, agents: map[string]bool{}}
	return b
}
