// Package units serves the admin API's view of units: the technician's
// list (filterable down to the not-ready work list), one unit's detail, and
// the per-site readiness summary. It reads what the reconciler concluded.
package units

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/lastseen"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves /api/v1/units and /api/v1/readiness.
type Service struct {
	Store      *store.Store
	Registry   *agents.Registry
	Reports    *agents.Reports
	LastSeen   *lastseen.Coalescer
	Inventory  *inventory.Inventory
	Reconciler *reconcile.Reconciler
	Log        *slog.Logger
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathUnits, auth.PermFleetRead, s.list)
	rt.User("GET "+adminapi.PathUnits+"/{id}", auth.PermFleetRead, s.show)
	rt.User("GET "+adminapi.PathReadiness, auth.PermFleetRead, s.readiness)
}

// Page sizes of the unit list.
const (
	defaultPage = 500
	maxPage     = 5000
)

// Filter selects units of the list.
type Filter struct {
	Site, Role, Readiness, Reconcile, Rule string
	NotReady                               bool
}

func (f Filter) match(st *reconcile.Status) bool {
	switch {
	case f.Site != "" && st.Site != f.Site && st.Placed != f.Site:
		return false
	case f.Role != "" && st.Role != f.Role:
		return false
	case f.Readiness != "" && string(st.Readiness) != f.Readiness:
		return false
	case f.NotReady && st.Readiness == readiness.Ready:
		return false
	case f.Reconcile != "" && st.Reconcile != f.Reconcile:
		return false
	case f.Rule != "" && !slices.ContainsFunc(st.Outcomes, func(o readiness.Outcome) bool { return o.Rule == f.Rule }):
		return false
	}
	return true
}

// lang picks the language of messages: ?lang=, else Accept-Language.
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "fr") {
		return "fr"
	}
	return "en"
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := defaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return httpapi.BadRequest("limit: want 1 to %d, got %q", maxPage, v)
		}
		limit = n
	}
	f := Filter{Site: q.Get("site"), Role: q.Get("role"), Readiness: q.Get("readiness"), Reconcile: q.Get("reconcile"),
		Rule: q.Get("rule"), NotReady: q.Get("not_ready") == "true" || q.Get("not_ready") == "1"}
	if f.Readiness != "" && !slices.Contains([]string{string(readiness.Ready), string(readiness.NotReady), string(readiness.StateUnknown)}, f.Readiness) {
		return httpapi.BadRequest("readiness: want ready, not_ready or unknown, got %q", f.Readiness)
	}
	out, err := s.List(r.Context(), f, q.Get("after"), limit, lang(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// List returns up to limit units f selects whose id sorts after after, with
// reasons in language l; Next is set when more follow.
func (s *Service) List(ctx context.Context, f Filter, after string, limit int, l string) (adminapi.UnitList, error) {
	var picked []*reconcile.Status
	s.Reconciler.Statuses.Range(func(id string, st reconcile.Status) bool {
		if id > after && f.match(&st) {
			picked = append(picked, &st)
		}
		return true
	})
	slices.SortFunc(picked, func(a, b *reconcile.Status) int { return strings.Compare(a.ID, b.ID) })
	out := adminapi.UnitList{Units: make([]adminapi.Unit, 0, min(len(picked), limit))}
	if len(picked) > limit {
		picked = picked[:limit]
		out.Next = picked[limit-1].ID
	}
	agentIDs := make([]string, 0, len(picked))
	for _, st := range picked {
		if st.Agent != "" {
			agentIDs = append(agentIDs, st.Agent)
		}
	}
	seen, err := s.lastSeen(ctx, agentIDs)
	if err != nil {
		return adminapi.UnitList{}, err
	}
	for _, st := range picked {
		out.Units = append(out.Units, s.view(st, seen[st.Agent], l))
	}
	return out, nil
}

func (s *Service) show(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := store.ValidID(id); err != nil {
		return httpapi.BadRequest("unit id: %v", err)
	}
	u, err := s.Show(r.Context(), id, lang(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}

// Show returns one unit (asset tag or agent id) with its latest report and
// reasons in language l; an *httpapi.Error 404 when there is no such unit.
func (s *Service) Show(ctx context.Context, id, l string) (adminapi.Unit, error) {
	st, ok := s.Reconciler.Statuses.Get(id)
	if !ok {
		// Not judged yet (declared or enrolled a moment ago): show what is
		// known, marked pending.
		st = reconcile.Status{ID: id, Reconcile: "pending"}
		if u, declared := s.Inventory.Units.Get(id); declared {
			st.AssetTag, st.Site, st.Role = u.AssetTag, u.Site, u.Role
		} else if a, err := s.Registry.Get(ctx, id); err == nil {
			st.Agent, st.Site, st.Role = a.ID, a.Site, a.Role
		} else if errors.Is(err, store.ErrNotFound) {
			return adminapi.Unit{}, httpapi.NotFound("no unit %q (neither a declared asset tag nor an enrolled agent)", id)
		} else {
			return adminapi.Unit{}, err
		}
	}
	var seen time.Time
	if st.Agent != "" {
		m, err := s.lastSeen(ctx, []string{st.Agent})
		if err != nil {
			return adminapi.Unit{}, err
		}
		seen = m[st.Agent]
	}
	u := s.view(&st, seen, l)
	if st.Agent != "" {
		obs, err := s.Reports.Observed(ctx, st.Agent)
		switch {
		case err == nil:
			addReport(&u, &obs)
		case !errors.Is(err, store.ErrNotFound):
			return adminapi.Unit{}, err
		}
	}
	return u, nil
}

// view assembles a unit from its status, declared record and agent.
func (s *Service) view(st *reconcile.Status, seen time.Time, l string) adminapi.Unit {
	u := adminapi.Unit{ID: st.ID, AssetTag: st.AssetTag, Agent: st.Agent, Site: st.Site, Placed: st.Placed,
		SeenSite: st.SeenSite, Role: st.Role, Reconcile: st.Reconcile, MatchRule: st.MatchRule, Flags: st.Flags,
		Others: st.Others, DuplicateOf: st.DuplicateOf, Liveness: st.Liveness, Readiness: string(st.Readiness)}
	rules := s.Reconciler.Rules()
	for _, o := range readiness.Collapse(st.Outcomes) {
		u.Reasons = append(u.Reasons, adminapi.Reason{Rule: o.Rule, Result: string(o.Result),
			Measured: readiness.Translate(o.Measured, l), Threshold: readiness.Translate(o.Threshold, l), Message: rules.Message(o, l)})
	}
	if d, ok := s.Inventory.Units.Get(st.AssetTag); ok && st.AssetTag != "" {
		u.Serial, u.Model, u.PurchaseDate, u.Classroom, u.Cart, u.Slot = d.Serial, d.Model, d.PurchaseDate, d.Classroom, d.Cart, d.Slot
	}
	if a, ok := s.Registry.Cache().Get(st.Agent); ok && st.Agent != "" {
		u.Hostname = a.Hostname
		enrolled := a.EnrolledAt
		u.EnrolledAt = &enrolled
		if u.Serial == "" {
			u.Serial = a.Serial
		}
		u.HardwareUUID = a.HardwareUUID
	}
	if pending, ok := s.LastSeen.Pending(st.Agent); ok && pending.After(seen) {
		seen = pending
	}
	if !seen.IsZero() {
		u.LastSeen = &seen
	}
	return u
}

func addReport(u *adminapi.Unit, obs *agents.Observed) {
	h := obs.Report.Host
	u.Hostname, u.OS, u.Platform, u.PlatformVersion, u.Vendor = h.Hostname, h.OS, h.Platform, h.PlatformVersion, h.Vendor
	if u.Model == "" {
		u.Model = h.Model
	}
	if u.Serial == "" {
		u.Serial = h.Serial
	}
	if h.HardwareUUID != "" {
		u.HardwareUUID = h.HardwareUUID
	}
	u.ReportSeq = obs.Report.Seq
	received := obs.ReceivedAt
	u.ReportReceivedAt = &received
	if u.LastSeen == nil || received.After(*u.LastSeen) {
		u.LastSeen = &received
	}
	u.Report = &obs.Report
}

// lastSeen reads the stored last-seen times of agents, in transactions of
// up to MaxTxnOps reads.
func (s *Service) lastSeen(ctx context.Context, ids []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(ids))
	for start := 0; start < len(ids); start += store.MaxTxnOps {
		chunk := ids[start:min(start+store.MaxTxnOps, len(ids))]
		ops := make([]clientv3.Op, len(chunk))
		for i, id := range chunk {
			ops[i] = clientv3.OpGet(s.Store.Key(store.KindLastSeen, id))
		}
		resp, err := s.Store.Client.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return nil, err
		}
		for i, r := range resp.Responses {
			if kvs := r.GetResponseRange().Kvs; len(kvs) > 0 {
				if t, err := lastseen.Parse(kvs[0].Value); err == nil {
					out[chunk[i]] = t
				}
			}
		}
	}
	return out, nil
}

func (s *Service) readiness(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, s.Summary(r.URL.Query().Get("site"), lang(r)))
	return nil
}

// Summary is the readiness summary of one site ("" for all), with rules
// described in language l.
func (s *Service) Summary(site, l string) adminapi.Readiness {
	out := adminapi.Readiness{Sites: []adminapi.SiteReadiness{}, Rules: map[string]string{}}
	s.Reconciler.Summaries.Range(func(id string, sum reconcile.Summary) bool {
		if site != "" && id != site {
			return true
		}
		sr := adminapi.SiteReadiness{Site: id, Roles: map[string]adminapi.RoleReadiness{}}
		for role, rc := range sum.Roles {
			sr.Roles[role] = *rc
			for rule := range rc.Failing {
				out.Rules[rule] = describe(s.Reconciler.Rules(), rule, l)
			}
			for rule := range rc.Unknowns {
				out.Rules[rule] = describe(s.Reconciler.Rules(), rule, l)
			}
		}
		out.Sites = append(out.Sites, sr)
		return true
	})
	slices.SortFunc(out.Sites, func(a, b adminapi.SiteReadiness) int { return strings.Compare(a.Site, b.Site) })
	return out
}

// describe renders a rule's message with its placeholders as words, for a
// legend.
func describe(rules *readiness.Rules, id, l string) string {
	rule, ok := rules.Rule(id)
	if !ok {
		return id
	}
	msg := rule.Message[l]
	if msg == "" {
		msg = rule.Message["en"]
	}
	return strings.NewReplacer("{measured}", "…", "{threshold}", "…").Replace(msg)
}
