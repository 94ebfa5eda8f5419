package continuity

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/sheet"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves the continuity summary, the trigger list, needs and the
// reserve shortfall.
type Service struct {
	Inventory  *inventory.Inventory
	Reconciler *reconcile.Reconciler
	Loans      *loans.Book
	Needs      *Needs
	Reports    *agents.Reports
	Log        *slog.Logger
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathContinuity, auth.PermFleetRead, s.summary)
	rt.User("GET "+adminapi.PathContinuityTrig, auth.PermLoansRead, s.trigger)
	rt.User("GET "+adminapi.PathNeeds, auth.PermLoansRead, s.listNeeds)
	rt.User("PUT "+adminapi.PathNeeds+"/{site}", auth.PermLoansWrite, s.setNeeds)
	rt.User("POST "+adminapi.PathImportNeeds, auth.PermLoansWrite, s.importNeeds)
	rt.User("GET "+adminapi.PathReserve, auth.PermLoansRead, s.reserve)
	rt.User("GET "+adminapi.PathExportReserve, auth.PermLoansRead, s.exportReserve)
}

func lang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "fr" || (r.URL.Query().Get("lang") == "" && strings.HasPrefix(r.Header.Get("Accept-Language"), "fr")) {
		return "fr"
	}
	return "en"
}

// Count counts the fleet now.
func (s *Service) Count() ([]adminapi.Continuity, adminapi.Continuity) {
	units := map[string]inventory.Unit{}
	s.Inventory.Units.Range(func(tag string, u inventory.Unit) bool { units[tag] = u; return true })
	return Count(Fleet{Units: units, Status: s.Reconciler.Statuses.Get, Loan: s.Loans.OpenLoan, Requests: s.Needs.Requests()})
}

func (s *Service) summary(w http.ResponseWriter, r *http.Request) error {
	site := r.URL.Query().Get("site")
	sites, total := s.Count()
	if site != "" {
		sites = slices.DeleteFunc(sites, func(c adminapi.Continuity) bool { return c.Site != site })
		if len(sites) == 0 {
			return httpapi.NotFound("no loaners nor needs at site %.64q", site)
		}
		total = sites[0]
	}
	httpapi.WriteJSON(w, http.StatusOK, adminapi.ContinuitySummary{Sites: nonNil(sites), Total: total, Arithmetic: Arithmetic[lang(r)]})
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// trigger lists, per site, the units to hand out now: available loaners,
// the best batteries first, and whether they cover the recorded requests.
func (s *Service) trigger(w http.ResponseWriter, r *http.Request) error {
	site := r.URL.Query().Get("site")
	out, err := s.Trigger(r.Context(), site)
	if err != nil {
		return err
	}
	if site != "" && len(out.Sites) == 0 {
		return httpapi.NotFound("no loaners nor needs at site %.64q", site)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// Trigger lists, for one site ("" for all), the units to hand out now:
// available loaners, the best batteries first, and whether they cover the
// recorded requests. For one site, Total is that site's count.
func (s *Service) Trigger(ctx context.Context, site string) (adminapi.Trigger, error) {
	sites, total := s.Count()
	out := adminapi.Trigger{Total: total, Go: true}
	for _, c := range sites {
		if site != "" && c.Site != site {
			continue
		}
		ts := adminapi.TriggerSite{Continuity: c, Go: c.Available >= c.Requests, Units: []adminapi.TriggerUnit{}}
		units, err := s.handOut(ctx, c.Site)
		if err != nil {
			return adminapi.Trigger{}, err
		}
		ts.Units = units
		out.Go = out.Go && ts.Go
		out.Sites = append(out.Sites, ts)
	}
	if site != "" && len(out.Sites) > 0 {
		out.Total = out.Sites[0].Continuity
	}
	out.Sites = nonNil(out.Sites)
	return out, nil
}

// handOut lists a site's available loaners, best battery first.
func (s *Service) handOut(ctx context.Context, site string) ([]adminapi.TriggerUnit, error) {
	var out []adminapi.TriggerUnit
	var agentsOf []string
	s.Inventory.Units.Range(func(tag string, u inventory.Unit) bool {
		if u.Role != inventory.RoleLoaner || u.PlacedAt() != site {
			return true
		}
		if _, lent := s.Loans.OpenLoan(tag); lent {
			return true
		}
		st, ok := s.Reconciler.Statuses.Get(tag)
		if !ok || st.Readiness != "ready" {
			return true
		}
		out = append(out, adminapi.TriggerUnit{Unit: tag, Cart: u.Cart, Slot: u.Slot})
		agentsOf = append(agentsOf, st.Agent)
		return true
	})
	for i := range out {
		if agentsOf[i] == "" {
			continue
		}
		obs, err := s.Reports.Observed(ctx, agentsOf[i])
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i].Hostname = obs.Report.Host.Hostname
		if b := obs.Report.Battery; b != nil && len(b.Batteries) > 0 {
			out[i].ChargePercent, out[i].HealthPercent = b.Batteries[0].ChargePercent, b.Batteries[0].HealthPercent
		}
	}
	slices.SortFunc(out, func(a, b adminapi.TriggerUnit) int {
		switch {
		case a.HealthPercent != b.HealthPercent:
			return cmpDesc(a.HealthPercent, b.HealthPercent)
		case a.ChargePercent != b.ChargePercent:
			return cmpDesc(a.ChargePercent, b.ChargePercent)
		}
		return strings.Compare(a.Unit, b.Unit)
	})
	return nonNil(out), nil
}

func cmpDesc(a, b float64) int {
	if a > b {
		return -1
	}
	return 1
}

func (s *Service) listNeeds(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, nonNil(s.Needs.All()))
	return nil
}

func actor(r *http.Request) string {
	p, _ := auth.PrincipalFrom(r.Context())
	return p.Actor()
}

func needsError(err error) error {
	var ie *InputError
	var fe *sheet.FileError
	switch {
	case errors.As(err, &ie):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "invalid", "%s", ie.Msg)
	case errors.As(err, &fe):
		return httpapi.BadRequest("%s", fe.Msg)
	}
	return err
}

func (s *Service) setNeeds(w http.ResponseWriter, r *http.Request) error {
	var n adminapi.SiteNeeds
	if err := httpapi.DecodeJSON(w, r, &n, httpapi.AdminJSON); err != nil {
		return err
	}
	if n.Site == "" {
		n.Site = r.PathValue("site")
	}
	if n.Site != r.PathValue("site") {
		return httpapi.BadRequest("site in the body (%.64q) differs from the URL", n.Site)
	}
	if err := s.Needs.Set(r.Context(), []adminapi.SiteNeeds{n}, actor(r)); err != nil {
		return needsError(err)
	}
	saved, _ := s.Needs.Cache.Get(n.Site)
	httpapi.WriteJSON(w, http.StatusOK, saved)
	return nil
}

func (s *Service) importNeeds(w http.ResponseWriter, r *http.Request) error {
	sites, lineErrs, err := s.Needs.Import(r.Context(), http.MaxBytesReader(w, r.Body, needsFormat.MaxBytes), actor(r))
	if err != nil {
		return needsError(err)
	}
	if len(lineErrs) > 0 {
		httpapi.WriteJSON(w, http.StatusUnprocessableEntity, adminapi.BulkResult{Errors: lineErrs})
		return nil
	}
	httpapi.WriteJSON(w, http.StatusOK, nonNil(sites))
	return nil
}

// available is each site's available loaners now.
func (s *Service) available() map[string]int {
	sites, _ := s.Count()
	out := map[string]int{}
	for _, c := range sites {
		out[c.Site] = c.Available
	}
	return out
}

func (s *Service) reserve(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, Reserve(s.Needs.All(), s.available()))
	return nil
}

// reserveHeader is the reserve request's columns, per language.
var reserveHeader = map[string][]string{
	"en": {"site", "category", "device_type", "needed", "supplied", "shortfall"},
	"fr": {"établissement", "catégorie", "type d'appareil", "besoin", "fourni", "manque"},
}

func (s *Service) exportReserve(w http.ResponseWriter, r *http.Request) error {
	l := lang(r)
	res := Reserve(s.Needs.All(), s.available())
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reserve-request.csv"`)
	cw := csv.NewWriter(w)
	if l == "fr" {
		cw.Comma = ';'
	}
	cw.Write(reserveHeader[l])
	total := "TOTAL"
	for _, line := range append(res.Lines, res.Total...) {
		site := line.Site
		if site == "" {
			site = total
		}
		cw.Write([]string{site, line.Category, line.DeviceType, strconv.Itoa(line.Needed), strconv.Itoa(line.Supplied), strconv.Itoa(line.Shortfall)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing the reserve request: %w", err)
	}
	return nil
}
