package reconcile

import (
	"slices"
	"time"

	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
)

// Reconciliation outcomes of a unit.
const (
	Matched     = "matched"      // declared, and an agent reports for it
	NeverSeen   = "never_seen"   // declared, no agent ever matched it
	NotDeclared = "not_declared" // an agent reports, nothing declared matches it
	Duplicate   = "duplicate"    // an extra agent matching a declared unit another agent reports for
)

// Flags that qualify a matched unit.
const (
	FlagWrongSite = "wrong_site" // seen at another site than declared
	FlagDuplicate = "duplicate"  // more than one agent matches it, or its agent matches several units
)

// Liveness of a unit, on the server's clock.
const (
	LiveOK      = "ok"
	LiveStale   = "stale"
	LiveMissing = "missing"
	LiveNever   = "never"
	// LiveSiteDark: the unit's agent went silent with most of its site's
	// agents; the site's link is down, not the unit (package sitelink).
	LiveSiteDark = "site_dark"
)

// DarkSites tells whether an agent's silence is its site's link being
// down. Package sitelink implements it.
type DarkSites interface {
	SiteDark(site string, lastSeen time.Time) bool
}

// Status is what the reconciler concludes about one unit, stored at
// status/<id>, where id is the asset tag of a declared unit or the agent id
// of one nobody declared. Short JSON names keep 1,000,000 of them small.
type Status struct {
	ID       string `json:"id"`
	AssetTag string `json:"tag,omitempty"`
	// Agent reports for the unit; Others are further agents matching it.
	Agent       string   `json:"agent,omitempty"`
	Others      []string `json:"others,omitempty"`
	DuplicateOf string   `json:"dup_of,omitempty"`
	Site        string   `json:"site,omitempty"`
	// Placed is the site the unit is at when it is assigned to another
	// than its own.
	Placed    string   `json:"placed,omitempty"`
	SeenSite  string   `json:"seen_site,omitempty"`
	Role      string   `json:"role"`
	Reconcile string   `json:"rec"`
	MatchRule string   `json:"by,omitempty"`
	Flags     []string `json:"flags,omitempty"`
	Liveness  string   `json:"live"`
	// Readiness and the rules that did not pass.
	Readiness readiness.State     `json:"ready"`
	Outcomes  []readiness.Outcome `json:"out,omitempty"`
}

// AgentView is what the reconciler knows of one enrolled agent.
type AgentView struct {
	ID       string
	Hostname string
	// Site and Role come from the agent's enroll token.
	Site, Role string
	Identity   Identity
	// Facts of its latest report; nil when it never sent one.
	Facts    *readiness.Facts
	LastSeen time.Time
}

// Source gives the declared units and agents statuses are computed from.
// The reconciler reads its caches through it; tests give maps.
type Source interface {
	Unit(tag string) (inventory.Unit, bool)
	Agent(id string) (*AgentView, bool)
}

// World is everything statuses are computed from.
type World struct {
	Src   Source
	Match Match
	Rules *readiness.Rules
	Now   time.Time
	// Dark, if set, says which silent agents are silent with their site.
	Dark DarkSites
}

// primary picks the agent that speaks for a declared unit: the one seen
// most recently (a reinstalled laptop's new agent, not its old one).
func (w *World) primary(tag string) (*AgentView, []string) {
	ids := w.Match.ByTag[tag]
	var best *AgentView
	for _, id := range ids {
		a, ok := w.Src.Agent(id)
		if !ok {
			continue
		}
		if best == nil || a.LastSeen.After(best.LastSeen) || (a.LastSeen.Equal(best.LastSeen) && a.ID < best.ID) {
			best = a
		}
	}
	var others []string
	for _, id := range ids {
		if best != nil && id != best.ID {
			others = append(others, id)
		}
	}
	return best, others
}

// StatusOf computes the status of unit id; nil when id is no unit of its
// own (an agent reporting for a declared unit, or something deleted).
func (w *World) StatusOf(id string) *Status {
	if u, ok := w.Src.Unit(id); ok {
		return w.declared(u)
	}
	a, ok := w.Src.Agent(id)
	if !ok {
		return nil
	}
	am, matched := w.Match.ByAgent[id]
	if !matched {
		role := a.Role
		if role == "" {
			role = w.Rules.DefaultRole
		}
		s := &Status{ID: id, Agent: id, Site: a.Site, Role: role, Reconcile: NotDeclared}
		w.judge(s, a)
		return s
	}
	for _, tag := range am.Tags {
		if p, _ := w.primary(tag); p != nil && p.ID != id {
			u, _ := w.Src.Unit(tag)
			s := &Status{ID: id, Agent: id, DuplicateOf: tag, Site: u.Site, SeenSite: a.Site, Role: u.Role,
				Reconcile: Duplicate, MatchRule: am.Rule, Flags: []string{FlagDuplicate}}
			w.judge(s, a)
			return s
		}
	}
	return nil // it speaks for its declared unit(s)
}

func (w *World) declared(u inventory.Unit) *Status {
	s := &Status{ID: u.AssetTag, AssetTag: u.AssetTag, Site: u.Site, Role: u.Role}
	if u.AssignedSite != "" && u.AssignedSite != u.Site {
		s.Placed = u.AssignedSite
	}
	a, others := w.primary(u.AssetTag)
	if a == nil {
		s.Reconcile = NeverSeen
		w.judge(s, nil)
		return s
	}
	s.Agent, s.Others, s.Reconcile = a.ID, others, Matched
	am := w.Match.ByAgent[a.ID]
	s.MatchRule = am.Rule
	if len(others) > 0 || len(am.Tags) > 1 {
		s.Flags = append(s.Flags, FlagDuplicate)
	}
	if a.Site != "" && a.Site != u.PlacedAt() {
		s.Flags = append(s.Flags, FlagWrongSite)
		s.SeenSite = a.Site
	}
	w.judge(s, a)
	return s
}

// judge sets liveness and readiness from the agent's facts (none: never seen).
func (w *World) judge(s *Status, a *AgentView) {
	var facts readiness.Facts
	var seen time.Time
	if a != nil {
		seen = a.LastSeen
		if a.Facts != nil {
			facts = *a.Facts
		}
	}
	s.Liveness = liveness(seen, w.Now, w.Rules.Liveness)
	v := w.Rules.Evaluate(s.Role, &facts, seen, w.Now)
	// A unit never seen has every rule unknown for that one reason: keep
	// one outcome saying so, not ten.
	s.Readiness, s.Outcomes = v.State, readiness.Collapse(v.Outcomes)
	if a != nil && w.Dark != nil && w.Dark.SiteDark(a.Site, seen) {
		// Silent because its site is dark: say so instead of stale or
		// missing, and give a failing check-in rule that cause.
		s.Liveness = LiveSiteDark
		s.Outcomes = w.Rules.MarkSiteDark(s.Outcomes)
	}
}

// equal reports whether two statuses say the same thing: the reconciler
// writes a status only when it is not equal to the stored one.
func (s *Status) equal(o *Status) bool {
	return s.ID == o.ID && s.AssetTag == o.AssetTag && s.Agent == o.Agent && slices.Equal(s.Others, o.Others) &&
		s.DuplicateOf == o.DuplicateOf && s.Site == o.Site && s.Placed == o.Placed && s.SeenSite == o.SeenSite &&
		s.Role == o.Role && s.Reconcile == o.Reconcile && s.MatchRule == o.MatchRule && slices.Equal(s.Flags, o.Flags) &&
		s.Liveness == o.Liveness && s.Readiness == o.Readiness && slices.Equal(s.Outcomes, o.Outcomes)
}

func liveness(seen, now time.Time, l readiness.Liveness) string {
	switch age := now.Sub(seen); {
	case seen.IsZero():
		return LiveNever
	case age > l.MissingAfter:
		return LiveMissing
	case age > l.StaleAfter:
		return LiveStale
	}
	return LiveOK
}
