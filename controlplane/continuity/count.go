// Package continuity answers the coordinator's questions for the
// emergency continuity plan: per site, how many loaners can go out today
// (and why the others cannot), which ones to hand out first, whether that
// covers the students recorded as needing a device, and what to ask the
// ministry's reserve for.
package continuity

import (
	"slices"
	"strings"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
)

// Fleet is what the count reads.
type Fleet struct {
	// Units are the declared units; only loaners count.
	Units map[string]inventory.Unit
	// Status returns the reconciler's status of a unit.
	Status func(tag string) (reconcile.Status, bool)
	// Loan returns the open loan (active, lost or abandoned) holding a unit.
	Loan func(tag string) (adminapi.Loan, bool)
	// Requests is the number of students needing a device, per site.
	Requests map[string]int
}

// Arithmetic explains how the numbers add up, per language.
var Arithmetic = map[string]string{
	"en": "at site = owned - assigned out + assigned in; available = at site - on loan - to recover - not ready; shortfall = requests - available (when positive)",
	"fr": "sur place = possédés - affectés ailleurs + reçus d'ailleurs ; disponibles = sur place - en prêt - à récupérer - non prêts ; manque = demandes - disponibles (si positif)",
}

// Count counts every site's loaners. A unit counts in its owning site's
// Owned, and at the site it is placed at (its assigned site, else its own)
// for everything else, so each unit is available at exactly one site.
func Count(f Fleet) (sites []adminapi.Continuity, total adminapi.Continuity) {
	by := map[string]*adminapi.Continuity{}
	site := func(id string) *adminapi.Continuity {
		c := by[id]
		if c == nil {
			c = &adminapi.Continuity{Site: id}
			by[id] = c
		}
		return c
	}
	for _, u := range f.Units {
		if u.Role != inventory.RoleLoaner {
			continue
		}
		owner, placed := u.Site, u.PlacedAt()
		site(owner).Owned++
		if placed != owner {
			site(owner).AssignedOut++
			site(placed).AssignedIn++
		}
		c := site(placed)
		c.AtSite++
		if l, lent := f.Loan(u.AssetTag); lent {
			if l.State == adminapi.LoanActive {
				c.OnLoan++
				if l.BorrowerType == adminapi.BorrowerStaff {
					c.OnLoanStaff++
				} else {
					c.OnLoanStudents++
				}
			} else {
				c.ToRecover++
			}
			continue
		}
		st, judged := f.Status(u.AssetTag)
		if judged && st.Readiness == readiness.Ready {
			c.Available++
			continue
		}
		c.NotReady++
		if !judged || st.Readiness == readiness.StateUnknown {
			c.NotReadyUnknown++
		}
		if c.NotReadyByRule == nil {
			c.NotReadyByRule = map[string]int{}
		}
		if !judged {
			c.NotReadyByRule["not-judged-yet"]++
		}
		for _, o := range st.Outcomes {
			c.NotReadyByRule[o.Rule]++
		}
	}
	for id, n := range f.Requests {
		site(id).Requests = n
	}
	for _, c := range by {
		c.Shortfall = max(0, c.Requests-c.Available)
		add(&total, c)
		sites = append(sites, *c)
	}
	slices.SortFunc(sites, func(a, b adminapi.Continuity) int { return strings.Compare(a.Site, b.Site) })
	return sites, total
}

// add sums a site into the total. Assigned out and in cancel over all
// sites; the total shortfall is the sum of the sites' (a surplus at one site
// serves another's students only once laptops are moved).
func add(t *adminapi.Continuity, c *adminapi.Continuity) {
	t.Owned += c.Owned
	t.AssignedOut += c.AssignedOut
	t.AssignedIn += c.AssignedIn
	t.AtSite += c.AtSite
	t.OnLoan += c.OnLoan
	t.OnLoanStaff += c.OnLoanStaff
	t.OnLoanStudents += c.OnLoanStudents
	t.ToRecover += c.ToRecover
	t.NotReady += c.NotReady
	t.NotReadyUnknown += c.NotReadyUnknown
	for rule, n := range c.NotReadyByRule {
		if t.NotReadyByRule == nil {
			t.NotReadyByRule = map[string]int{}
		}
		t.NotReadyByRule[rule] += n
	}
	t.Available += c.Available
	t.Requests += c.Requests
	t.Shortfall += c.Shortfall
}

// AddsUp checks the arithmetic of a count: the invariants the output
// promises, so that every number can be checked by hand.
func AddsUp(c adminapi.Continuity) bool {
	return c.AtSite == c.Owned-c.AssignedOut+c.AssignedIn &&
		c.Available == c.AtSite-c.OnLoan-c.ToRecover-c.NotReady &&
		c.OnLoan == c.OnLoanStaff+c.OnLoanStudents &&
		c.Shortfall == max(0, c.Requests-c.Available)
}
