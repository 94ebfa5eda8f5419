package continuity

import (
	"testing"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
)

func TestCount(t *testing.T) {
	loaner := func(tag, site, assigned string) inventory.Unit {
		return inventory.Unit{AssetTag: tag, Site: site, AssignedSite: assigned, Role: inventory.RoleLoaner}
	}
	units := map[string]inventory.Unit{}
	for _, u := range []inventory.Unit{
		loaner("A1", "a", ""), loaner("A2", "a", ""), loaner("A3", "a", ""), loaner("A4", "a", ""),
		loaner("A5", "a", ""), loaner("A6", "a", "b"), loaner("A7", "a", ""), loaner("A8", "a", ""),
		loaner("B1", "b", ""), loaner("B2", "b", ""),
		{AssetTag: "PC1", Site: "a", Role: inventory.RoleClassroom},
	} {
		units[u.AssetTag] = u
	}
	ready := reconcile.Status{Readiness: readiness.Ready}
	statuses := map[string]reconcile.Status{
		"A1": ready, "A2": ready, "A3": ready, "A6": ready, "B1": ready, "PC1": ready,
		// A4 is on loan and not ready: it counts on loan, not as not ready.
		"A4": {Readiness: readiness.NotReady, Outcomes: []readiness.Outcome{{Rule: "battery-health", Result: readiness.Fail}}},
		"A5": {Readiness: readiness.NotReady, Outcomes: []readiness.Outcome{{Rule: "battery-health", Result: readiness.Fail}, {Rule: "bandwidth", Result: readiness.Fail}}},
		// A7 was never seen.
		"A7": {Readiness: readiness.StateUnknown, Outcomes: []readiness.Outcome{{Rule: readiness.NeverSeenRule, Result: readiness.Unknown}}},
		// A8 has no status yet (declared a moment ago); B2 is lost on loan.
	}
	loans := map[string]adminapi.Loan{
		"A3": {State: adminapi.LoanActive, BorrowerType: adminapi.BorrowerStaff},
		"A4": {State: adminapi.LoanActive, BorrowerType: adminapi.BorrowerStudent},
		"B2": {State: adminapi.LoanLost},
	}
	sites, total := Count(Fleet{
		Units:    units,
		Status:   func(tag string) (reconcile.Status, bool) { s, ok := statuses[tag]; return s, ok },
		Loan:     func(tag string) (adminapi.Loan, bool) { l, ok := loans[tag]; return l, ok },
		Requests: map[string]int{"a": 5, "b": 1, "c": 2},
	})
	want := map[string]adminapi.Continuity{
		"a": {Site: "a", Owned: 8, AssignedOut: 1, AtSite: 7, OnLoan: 2, OnLoanStaff: 1, OnLoanStudents: 1,
			NotReady: 3, NotReadyUnknown: 2, Available: 2, Requests: 5, Shortfall: 3,
			NotReadyByRule: map[string]int{"battery-health": 1, "bandwidth": 1, readiness.NeverSeenRule: 1, "not-judged-yet": 1}},
		"b": {Site: "b", Owned: 2, AssignedIn: 1, AtSite: 3, ToRecover: 1, Available: 2, Requests: 1},
		"c": {Site: "c", Requests: 2, Shortfall: 2},
	}
	if len(sites) != len(want) {
		t.Fatalf("%d sites: %+v", len(sites), sites)
	}
	for _, got := range sites {
		w := want[got.Site]
		if got.Owned != w.Owned || got.AssignedOut != w.AssignedOut || got.AssignedIn != w.AssignedIn || got.AtSite != w.AtSite ||
			got.OnLoan != w.OnLoan || got.OnLoanStaff != w.OnLoanStaff || got.ToRecover != w.ToRecover || got.NotReady != w.NotReady ||
			got.NotReadyUnknown != w.NotReadyUnknown || got.Available != w.Available || got.Shortfall != w.Shortfall || len(got.NotReadyByRule) != len(w.NotReadyByRule) {
			t.Errorf("site %s:\n got %+v\nwant %+v", got.Site, got, w)
		}
		for rule, n := range w.NotReadyByRule {
			if got.NotReadyByRule[rule] != n {
				t.Errorf("site %s rule %s: %d, want %d", got.Site, rule, got.NotReadyByRule[rule], n)
			}
		}
		if !AddsUp(got) {
			t.Errorf("site %s does not add up: %+v", got.Site, got)
		}
	}
	// The total shortfall sums the sites': a surplus at one site does not
	// serve another's students until laptops are moved.
	if total.Owned != 10 || total.Available != 4 || total.AssignedIn != total.AssignedOut || total.Shortfall != 5 || total.Requests != 8 {
		t.Errorf("total %+v", total)
	}
	if total.AtSite != total.Owned {
		t.Errorf("over all sites, at site %d must equal owned %d", total.AtSite, total.Owned)
	}
}
