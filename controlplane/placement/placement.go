// Package placement reports where units are meant to be: one PC per
// classroom (which classrooms have none, which have several), charging
// carts and cabinets slot by slot with each unit's battery, and units whose
// agent reports from another site than their classroom or cart.
package placement

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves the placement reports.
type Service struct {
	Inventory  *inventory.Inventory
	Reconciler *reconcile.Reconciler
	Loans      *loans.Book
	Reports    *agents.Reports
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathClassroomsReport, auth.PermFleetRead, s.classrooms)
	rt.User("GET "+adminapi.PathCarts+"/{id}/status", auth.PermFleetRead, s.cart)
}

// ClassroomsReport checks the plan of one PC per classroom.
func ClassroomsReport(classrooms map[string]inventory.Classroom, units map[string]inventory.Unit, status func(string) (reconcile.Status, bool), site string) adminapi.ClassroomsReport {
	pcs := map[string][]string{}
	out := adminapi.ClassroomsReport{WithoutPC: []string{}, Several: map[string][]string{}}
	for tag, u := range units {
		if u.Classroom != "" && u.Role == inventory.RoleClassroom {
			pcs[u.Classroom] = append(pcs[u.Classroom], tag)
		}
		if u.Classroom == "" && u.Cart == "" || (site != "" && u.PlacedAt() != site) {
			continue
		}
		if st, ok := status(tag); ok && slices.Contains(st.Flags, reconcile.FlagWrongSite) {
			placement := "classroom " + u.Classroom
			if u.Cart != "" {
				placement = "cart " + u.Cart
			}
			out.Misplaced = append(out.Misplaced, adminapi.Misplaced{Unit: tag, Placement: placement, Site: u.PlacedAt(), SeenSite: st.SeenSite})
		}
	}
	for id, c := range classrooms {
		if site != "" && c.Site != site {
			continue
		}
		switch n := len(pcs[id]); {
		case n == 0:
			out.WithoutPC = append(out.WithoutPC, id)
		case n > 1:
			slices.Sort(pcs[id])
			out.Several[id] = pcs[id]
		}
	}
	slices.Sort(out.WithoutPC)
	slices.SortFunc(out.Misplaced, func(a, b adminapi.Misplaced) int {
		if a.Unit < b.Unit {
			return -1
		}
		return 1
	})
	return out
}

func (s *Service) classrooms(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, s.Classrooms(r.URL.Query().Get("site")))
	return nil
}

// Classrooms checks the plan of one PC per classroom at site ("" for all).
func (s *Service) Classrooms(site string) adminapi.ClassroomsReport {
	classrooms := map[string]inventory.Classroom{}
	s.Inventory.Classrooms.Range(func(id string, c inventory.Classroom) bool { classrooms[id] = c; return true })
	units := map[string]inventory.Unit{}
	s.Inventory.Units.Range(func(tag string, u inventory.Unit) bool { units[tag] = u; return true })
	return ClassroomsReport(classrooms, units, s.Reconciler.Statuses.Get, site)
}

// DefaultChargeThreshold is the charge a laptop should have to go out for
// a school day.
const DefaultChargeThreshold = 80

func (s *Service) cart(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := store.ValidID(id); err != nil {
		return httpapi.BadRequest("cart id: %v", err)
	}
	threshold := float64(DefaultChargeThreshold)
	if v := r.URL.Query().Get("charge"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 0 || n > 100 {
			return httpapi.BadRequest("charge: want a percentage, got %.16q", v)
		}
		threshold = n
	}
	out, err := s.CartStatus(r.Context(), id, threshold)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// CartStatus lists a cart slot by slot with each unit's readiness and
// battery, counting the units charged to threshold percent; an
// *httpapi.Error 404 when there is no such cart.
func (s *Service) CartStatus(ctx context.Context, id string, threshold float64) (adminapi.CartStatus, error) {
	cart, ok := s.Inventory.Carts.Get(id)
	if !ok {
		return adminapi.CartStatus{}, httpapi.NotFound("no cart %q", id)
	}
	out := adminapi.CartStatus{Cart: id, Site: cart.Site, ChargeThreshold: threshold, Empty: []int{}}
	inSlot := map[int]inventory.Unit{}
	s.Inventory.Units.Range(func(_ string, u inventory.Unit) bool {
		if u.Cart == id {
			inSlot[u.Slot] = u
		}
		return true
	})
	for slot := 1; slot <= cart.Slots; slot++ {
		u, ok := inSlot[slot]
		if !ok {
			out.Empty = append(out.Empty, slot)
			out.Slots = append(out.Slots, adminapi.CartSlot{Slot: slot})
			continue
		}
		cs := adminapi.CartSlot{Slot: slot, Unit: u.AssetTag}
		_, cs.OnLoan = s.Loans.OpenLoan(u.AssetTag)
		st, judged := s.Reconciler.Statuses.Get(u.AssetTag)
		if judged {
			cs.Readiness = string(st.Readiness)
		}
		if judged && st.Agent != "" {
			obs, err := s.Reports.Observed(ctx, st.Agent)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return adminapi.CartStatus{}, err
			}
			if b := obs.Report.Battery; err == nil && b != nil && len(b.Batteries) > 0 {
				charge, health := b.Batteries[0].ChargePercent, b.Batteries[0].HealthPercent
				cs.ChargePercent, cs.HealthPercent = &charge, &health
				if charge >= threshold && !cs.OnLoan {
					out.Charged++
					if st.Readiness == readiness.Ready {
						out.ChargedReady++
					}
				}
			}
		}
		out.Slots = append(out.Slots, cs)
	}
	return out, nil
}
