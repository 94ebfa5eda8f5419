// Package units serves the admin API's view of units: the list a
// technician scans and the detail of one unit.
package units

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/lastseen"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves /api/v1/units.
type Service struct {
	Store    *store.Store
	Registry *agents.Registry
	Reports  *agents.Reports
	LastSeen *lastseen.Coalescer
	Log      *slog.Logger
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathUnits, auth.PermFleetRead, s.list)
	rt.User("GET "+adminapi.PathUnits+"/{id}", auth.PermFleetRead, s.show)
}

// Page sizes of the unit list.
const (
	defaultPage = 500
	maxPage     = 5000
)

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	limit := defaultPage
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return httpapi.BadRequest("limit: want 1 to %d, got %q", maxPage, v)
		}
		limit = n
	}
	after := r.URL.Query().Get("after")

	var ids []string
	s.Registry.Cache().Range(func(id string, _ agents.Agent) bool {
		if id > after {
			ids = append(ids, id)
		}
		return true
	})
	slices.Sort(ids)
	var next string
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	out := adminapi.UnitList{Units: make([]adminapi.Unit, 0, len(ids))}
	if len(ids) == 0 {
		httpapi.WriteJSON(w, http.StatusOK, out)
		return nil
	}
	observed, err := s.observedRange(r.Context(), ids[0], ids[len(ids)-1])
	if err != nil {
		return err
	}
	seen, err := s.lastSeenRange(r.Context(), ids[0], ids[len(ids)-1])
	if err != nil {
		return err
	}
	for _, id := range ids {
		a, ok := s.Registry.Cache().Get(id)
		if !ok {
			continue // deleted while listing
		}
		u := s.unit(a, observed[id], seen[id])
		out.Units = append(out.Units, u)
	}
	out.Next = next
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) show(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := store.ValidID(id); err != nil {
		return httpapi.BadRequest("unit id: %v", err)
	}
	a, err := s.Registry.Get(r.Context(), id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return httpapi.NotFound("no unit %q", id)
		}
		return err
	}
	var obs *agents.Observed
	o, err := s.Reports.Observed(r.Context(), id)
	switch {
	case err == nil:
		obs = &o
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	var seen time.Time
	switch v, _, err := s.Store.GetRaw(r.Context(), s.Store.Key(store.KindLastSeen, id)); {
	case err == nil:
		seen, _ = lastseen.Parse(v)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	u := s.unit(a, obs, seen)
	if obs != nil {
		u.Report = &obs.Report
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (s *Service) unit(a agents.Agent, obs *agents.Observed, seen time.Time) adminapi.Unit {
	u := adminapi.Unit{ID: a.ID, Hostname: a.Hostname, Site: a.Site, Role: a.Role,
		Serial: a.Serial, HardwareUUID: a.HardwareUUID, EnrolledAt: a.EnrolledAt}
	if obs != nil {
		h := obs.Report.Host
		u.Hostname, u.OS, u.Platform, u.PlatformVersion = h.Hostname, h.OS, h.Platform, h.PlatformVersion
		u.Vendor, u.Model, u.Serial, u.HardwareUUID = h.Vendor, h.Model, h.Serial, h.HardwareUUID
		u.ReportSeq = obs.Report.Seq
		received := obs.ReceivedAt
		u.ReportReceivedAt = &received
		if received.After(seen) {
			seen = received
		}
	}
	if pending, ok := s.LastSeen.Pending(a.ID); ok && pending.After(seen) {
		seen = pending
	}
	if !seen.IsZero() {
		u.LastSeen = &seen
	}
	return u
}

func (s *Service) observedRange(ctx context.Context, first, last string) (map[string]*agents.Observed, error) {
	out := make(map[string]*agents.Observed)
	err := s.rangeOf(ctx, store.KindObserved, first, last, func(id string, value []byte) {
		var o agents.Observed
		if err := store.Decode(value, &o); err != nil {
			s.Log.Error("skipping undecodable report", "agent", id, "err", err)
			return
		}
		out[id] = &o
	})
	return out, err
}

func (s *Service) lastSeenRange(ctx context.Context, first, last string) (map[string]time.Time, error) {
	out := make(map[string]time.Time)
	err := s.rangeOf(ctx, store.KindLastSeen, first, last, func(id string, value []byte) {
		if t, err := lastseen.Parse(value); err == nil {
			out[id] = t
		}
	})
	return out, err
}

// rangeOf reads every key of kind whose id is in [first, last] in one request.
func (s *Service) rangeOf(ctx context.Context, kind, first, last string, fn func(id string, value []byte)) error {
	resp, err := s.Store.Client.Get(ctx, s.Store.Key(kind, first),
		clientv3.WithRange(s.Store.Key(kind, last)+"\x00"))
	if err != nil {
		return err
	}
	for _, kv := range resp.Kvs {
		fn(s.Store.IDFromKey(kind, string(kv.Key)), kv.Value)
	}
	return nil
}
