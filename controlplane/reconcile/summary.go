package reconcile

import (
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/readiness"
)

// NoSite keys the summary of units that belong to no site.
const NoSite = "-"

// Summary counts a site's units by role, stored at summaries/<site>.
type Summary struct {
	Site  string                 `json:"site"`
	Roles map[string]*RoleCounts `json:"roles"`
}

// RoleCounts counts one role's units of a site; its wire form is the
// admin API's (Units = Ready + NotReady + Unknown; the other counts qualify
// some of those units; Failing and Unknowns count units per rule).
type RoleCounts = adminapi.RoleReadiness

// summaries maintains per-site summaries incrementally as statuses change.
type summaries map[string]*Summary

func siteKey(s *Status) string {
	if s.Site == "" {
		return NoSite
	}
	return s.Site
}

// apply moves a unit's contribution from its old status to its new one
// (either may be nil) and returns the sites whose summary changed.
func (m summaries) apply(old, cur *Status) []string {
	var sites []string
	if old != nil {
		sites = append(sites, m.add(old, -1))
	}
	if cur != nil {
		if site := m.add(cur, 1); old == nil || site != sites[0] {
			sites = append(sites, site)
		}
	}
	return sites
}

func (m summaries) add(s *Status, d int) string {
	site := siteKey(s)
	sum := m[site]
	if sum == nil {
		sum = &Summary{Site: site, Roles: map[string]*RoleCounts{}}
		m[site] = sum
	}
	rc := sum.Roles[s.Role]
	if rc == nil {
		rc = &RoleCounts{}
		sum.Roles[s.Role] = rc
	}
	if s.Reconcile == Duplicate {
		rc.Duplicates += d
		m.prune(site, s.Role)
		return site
	}
	rc.Units += d
	switch s.Readiness {
	case readiness.Ready:
		rc.Ready += d
	case readiness.NotReady:
		rc.NotReady += d
	default:
		rc.Unknown += d
	}
	for _, o := range s.Outcomes {
		switch {
		case o.Result == readiness.Fail:
			rc.Failing = bump(rc.Failing, o.Rule, d)
		case o.Result == readiness.Unknown:
			rc.Unknowns = bump(rc.Unknowns, o.Rule, d)
		}
	}
	switch s.Reconcile {
	case NeverSeen:
		rc.NeverSeen += d
	case NotDeclared:
		rc.NotDeclared += d
	}
	for _, f := range s.Flags {
		if f == FlagWrongSite {
			rc.WrongSite += d
		}
	}
	switch s.Liveness {
	case LiveStale:
		rc.Stale += d
	case LiveMissing:
		rc.Missing += d
	case LiveSiteDark:
		rc.SiteDark += d
	}
	m.prune(site, s.Role)
	return site
}

// prune drops roles and sites that no longer count anything, so that an
// emptied site's summary is deleted rather than kept as zeros.
func (m summaries) prune(site, role string) {
	sum := m[site]
	if rc := sum.Roles[role]; rc.Units == 0 && rc.Duplicates == 0 {
		delete(sum.Roles, role)
	}
	if len(sum.Roles) == 0 {
		delete(m, site)
	}
}

func bump(m map[string]int, k string, d int) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[k] += d
	if m[k] == 0 {
		delete(m, k)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
