package sitelink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/lastseen"
	"github.com/parc-project/parc/controlplane/store"
)

// Monitor judges every site's link on an interval and stores what changed
// at sitelinks/<site>. Run it on the elected reconciler
// (Reconciler.OnLeadership); see the package comment.
type Monitor struct {
	Store    *store.Store
	Registry *agents.Registry
	Links    *Links
	// Thresholds decide the states; Interval is how often sites are judged
	// (a fraction of Thresholds.Window, so that an outage shows within a
	// few minutes of the check-ins it silenced).
	Thresholds Thresholds
	Interval   time.Duration
	Log        *slog.Logger
	Now        func() time.Time
}

// probeDigest is what the monitor keeps of an agent's latest report: its
// receipt time and, for a probe, its link facts.
type probeDigest struct {
	ReceivedAt time.Time
	Link       *agentapi.LinkFacts
}

func decodeProbe(_ string, data []byte) (probeDigest, error) {
	// Only the two fields are decoded into; the rest of the report is
	// skipped.
	var obs struct {
		ReceivedAt time.Time `json:"received_at"`
		Report     struct {
			Link *agentapi.LinkFacts `json:"link"`
		} `json:"report"`
	}
	if err := json.Unmarshal(data, &obs); err != nil {
		return probeDigest{}, err
	}
	return probeDigest{ReceivedAt: obs.ReceivedAt, Link: obs.Report.Link}, nil
}

func decodeLastSeen(_ string, data []byte) (time.Time, error) { return lastseen.Parse(data) }

// Run judges the sites every Interval until ctx ends (leadership lost).
func (m *Monitor) Run(ctx context.Context) {
	log := m.Log.With("component", "sitelink")
	seen := store.NewCacheFunc(m.Store, store.KindLastSeen, decodeLastSeen, log)
	reports := store.NewCacheFunc(m.Store, store.KindObserved, decodeProbe, log)
	done := make(chan struct{}, 2)
	for _, run := range []func(context.Context){seen.Run, reports.Run} {
		go func() { run(ctx); done <- struct{}{} }()
	}
	defer func() { <-done; <-done }()
	if err := errors.Join(seen.WaitReady(ctx), reports.WaitReady(ctx), m.Registry.Cache().WaitReady(ctx), m.Links.WaitReady(ctx)); err != nil {
		return
	}
	tick := time.NewTicker(m.Interval)
	defer tick.Stop()
	for {
		if err := m.pass(ctx, seen, reports, log); err != nil && ctx.Err() == nil {
			log.Warn("judging site links", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pass judges every site that has agents and writes the states that
// changed; it deletes the records of sites left without agents.
func (m *Monitor) pass(ctx context.Context, seen *store.Cache[time.Time], reports *store.Cache[probeDigest], log *slog.Logger) error {
	now := m.Now()
	bySite := map[string][]Agent{}
	m.Registry.Cache().Range(func(id string, a agents.Agent) bool {
		if a.Revoked || a.Site == "" {
			return true
		}
		ag := Agent{}
		if d, ok := reports.Get(id); ok {
			ag.LastSeen, ag.Link, ag.LinkAt = d.ReceivedAt, d.Link, d.ReceivedAt
		}
		if t, ok := seen.Get(id); ok && t.After(ag.LastSeen) {
			ag.LastSeen = t
		}
		bySite[a.Site] = append(bySite[a.Site], ag)
		return true
	})
	var ops []clientv3.Op
	for site, list := range bySite {
		if store.ValidID(site) != nil {
			continue
		}
		cur := Judge(site, list, m.Thresholds, now)
		prev, had := m.Links.Get(site)
		switch {
		case cur.State == adminapi.LinkDown:
		case had && prev.State == cur.State:
			cur.Since = prev.Since
		default:
			cur.Since = now.UTC().Truncate(time.Second)
		}
		if had && prev.State != cur.State {
			logTransition(log, prev, cur)
		}
		raw, err := store.Encode(cur)
		if err != nil {
			return err
		}
		if had {
			old, _ := store.Encode(prev)
			if bytes.Equal(old, raw) {
				continue
			}
		}
		ops = append(ops, clientv3.OpPut(m.Store.Key(KindSiteLinks, site), string(raw)))
	}
	for _, l := range m.Links.SiteLinks() {
		if _, ok := bySite[l.Site]; !ok {
			ops = append(ops, clientv3.OpDelete(m.Store.Key(KindSiteLinks, l.Site)))
		}
	}
	return m.Store.Commit(ctx, ops)
}

func logTransition(log *slog.Logger, prev, cur adminapi.SiteLink) {
	attrs := []any{"site", cur.Site, "was", prev.State, "reason", cur.Reason, "agents", cur.Agents}
	if cur.State == adminapi.LinkDown {
		log.Warn("site link down: most of its agents went silent together", append(attrs, "silent", cur.Silent, "last_heard", cur.Since)...)
		return
	}
	log.Info("site link "+cur.State, append(attrs, "probes", cur.ProbesReporting, "rtt_ms", cur.RTTMs, "loss", cur.Loss)...)
}
