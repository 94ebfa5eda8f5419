package reconcile

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/configs"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
)

var now = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

type mapSource struct {
	units  map[string]inventory.Unit
	agents map[string]*AgentView
}

func (m mapSource) Unit(tag string) (inventory.Unit, bool) { u, ok := m.units[tag]; return u, ok }
func (m mapSource) Agent(id string) (*AgentView, bool)     { a, ok := m.agents[id]; return a, ok }

func rules(t testing.TB) *readiness.Rules {
	t.Helper()
	r, err := readiness.Parse(bytes.NewReader(configs.Readiness))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// agentFrom builds an agent view from a captured report.
func agentFrom(t testing.TB, id, fixture, site string, seen time.Time) *AgentView {
	t.Helper()
	data, err := os.ReadFile("../readiness/testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	var r agentapi.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	f := readiness.FactsFromReport(&r)
	return &AgentView{ID: id, Hostname: r.Host.Hostname, Site: site, Facts: &f, LastSeen: seen,
		Identity: Identity{Serial: r.Host.Serial, UUID: r.Host.HardwareUUID}}
}

func world(t testing.TB, units []inventory.Unit, agents ...*AgentView) *World {
	src := mapSource{units: map[string]inventory.Unit{}, agents: map[string]*AgentView{}}
	for _, u := range units {
		src.units[u.AssetTag] = u
	}
	ids := map[string]Identity{}
	for _, a := range agents {
		src.agents[a.ID] = a
		ids[a.ID] = a.Identity
	}
	return &World{Src: src, Match: MatchAll(src.units, ids), Rules: rules(t), Now: now}
}

func failing(s *Status) []string {
	var out []string
	for _, o := range s.Outcomes {
		if o.Result == readiness.Fail {
			out = append(out, o.Rule)
		}
	}
	return out
}

func TestStatuses(t *testing.T) {
	recent := now.Add(-time.Hour)
	units := []inventory.Unit{
		{AssetTag: "LP-0042", Serial: "PF2ABCDE", Site: "jaures", Role: "loaner"},
		{AssetTag: "LP-0007", Serial: "PF2ZZZZZ", Site: "jaures", Role: "loaner"},
		{AssetTag: "LP-0100", Serial: "NEVERSEEN", Site: "curie", Role: "loaner"},
		{AssetTag: "LP-0200", Serial: "PF2ABCDE-OTHER", Site: "curie", Role: "loaner", AssignedSite: "jaures"},
	}
	ready := agentFrom(t, "a-ready", "loaner-ready.json", "jaures", recent)
	worn := agentFrom(t, "a-worn", "loaner-worn.json", "curie", now.Add(-10*24*time.Hour)) // wrong site, stale
	stranger := agentFrom(t, "a-kiosk", "kiosk.json", "jaures", recent)
	stranger.Role = "kiosk"
	w := world(t, units, ready, worn, stranger)

	tests := []struct {
		id                        string
		rec, live, flags, failing string
		ready                     readiness.State
	}{
		{"LP-0042", Matched, LiveOK, "", "", readiness.Ready},
		{"LP-0007", Matched, LiveStale, FlagWrongSite, "security-updates,updates-recent,reboot-pending,remote-support,loaner-software,bandwidth,battery-health,battery-cycles,disk-free,seen-recently", readiness.NotReady},
		{"LP-0100", NeverSeen, LiveNever, "", "", readiness.StateUnknown},
		{"a-kiosk", NotDeclared, LiveOK, "", "kiosk-signatures,kiosk-infections", readiness.NotReady},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s := w.StatusOf(tt.id)
			if s == nil {
				t.Fatal("no status")
			}
			if s.Reconcile != tt.rec || s.Liveness != tt.live || strings.Join(s.Flags, ",") != tt.flags || s.Readiness != tt.ready {
				t.Errorf("status %+v, want %s/%s flags %q %s", s, tt.rec, tt.live, tt.flags, tt.ready)
			}
			if got := strings.Join(failing(s), ","); got != tt.failing {
				t.Errorf("failing %s, want %s", got, tt.failing)
			}
		})
	}
	// An agent speaking for a declared unit has no status of its own.
	if s := w.StatusOf("a-ready"); s != nil {
		t.Errorf("matched agent has its own status %+v", s)
	}
	// Missing after 30 days.
	worn.LastSeen = now.Add(-31 * 24 * time.Hour)
	if s := w.StatusOf("LP-0007"); s.Liveness != LiveMissing {
		t.Errorf("liveness %s, want missing", s.Liveness)
	}
	// A unit assigned elsewhere says where it is.
	if s := w.StatusOf("LP-0200"); s.Placed != "jaures" || s.Site != "curie" {
		t.Errorf("placed %q site %q", s.Placed, s.Site)
	}
}

func TestDuplicates(t *testing.T) {
	units := []inventory.Unit{{AssetTag: "LP-1", Serial: "PF2ABCDE", Site: "s", Role: "loaner"}}
	// The laptop was reinstalled: a new agent reports, the old one went quiet.
	oldAgent := agentFrom(t, "old", "loaner-worn.json", "s", now.Add(-20*24*time.Hour))
	oldAgent.Identity.Serial = "PF2ABCDE"
	newAgent := agentFrom(t, "new", "loaner-ready.json", "s", now.Add(-time.Minute))
	w := world(t, units, oldAgent, newAgent)

	s := w.StatusOf("LP-1")
	if s.Agent != "new" || !slices.Equal(s.Others, []string{"old"}) || !slices.Contains(s.Flags, FlagDuplicate) || s.Readiness != readiness.Ready {
		t.Errorf("unit: %+v, want judged by the newest agent, the old one named, flagged duplicate", s)
	}
	d := w.StatusOf("old")
	if d == nil || d.Reconcile != Duplicate || d.DuplicateOf != "LP-1" {
		t.Errorf("old agent: %+v, want a duplicate of LP-1", d)
	}

	// One agent matching two declared units flags both.
	units = []inventory.Unit{{AssetTag: "A", Serial: "PF2ABCDE", Site: "s", Role: "loaner"}, {AssetTag: "B", Serial: "PF2ABCDE", Site: "s", Role: "loaner"}}
	w = world(t, units, newAgent)
	for _, tag := range []string{"A", "B"} {
		if s := w.StatusOf(tag); !slices.Contains(s.Flags, FlagDuplicate) || s.Agent != "new" {
			t.Errorf("%s: %+v, want flagged duplicate", tag, s)
		}
	}
}

func TestSummariesAddUp(t *testing.T) {
	recent := now.Add(-time.Hour)
	units := []inventory.Unit{
		{AssetTag: "LP-0042", Serial: "PF2ABCDE", Site: "jaures", Role: "loaner"},
		{AssetTag: "LP-0007", Serial: "PF2ZZZZZ", Site: "jaures", Role: "loaner"},
		{AssetTag: "LP-0100", Serial: "X1", Site: "jaures", Role: "loaner"},
		{AssetTag: "PC-1", Serial: "X2", Site: "curie", Role: "classroom"},
	}
	w := world(t, units, agentFrom(t, "a1", "loaner-ready.json", "jaures", recent), agentFrom(t, "a2", "loaner-worn.json", "jaures", recent))
	sums := summaries{}
	var statuses []*Status
	for _, id := range []string{"LP-0042", "LP-0007", "LP-0100", "PC-1", "a1", "a2"} {
		if s := w.StatusOf(id); s != nil {
			statuses = append(statuses, s)
			sums.apply(nil, s)
		}
	}
	rc := sums["jaures"].Roles["loaner"]
	if rc.Units != 3 || rc.Ready != 1 || rc.NotReady != 1 || rc.Unknown != 1 || rc.NeverSeen != 1 || rc.Failing["battery-health"] != 1 {
		t.Errorf("jaures loaners: %+v", rc)
	}
	if rc.Units != rc.Ready+rc.NotReady+rc.Unknown {
		t.Error("units do not add up")
	}
	// Taking every status away leaves nothing behind.
	for _, s := range statuses {
		sums.apply(s, nil)
	}
	if len(sums) != 0 {
		t.Errorf("summaries left: %+v", sums)
	}
}

// darkSite is a site whose link went down at since, silencing the agents
// last heard from since-5m on.
type darkSite struct {
	site  string
	since time.Time
}

func (d darkSite) SiteDark(site string, seen time.Time) bool {
	return site == d.site && !seen.Before(d.since.Add(-5*time.Minute)) && !seen.After(d.since)
}

func TestSiteDarkStatuses(t *testing.T) {
	cut := now.Add(-30 * time.Hour) // longer ago than the kiosk rule's 24 h
	units := []inventory.Unit{
		{AssetTag: "K-1", Serial: "PF2ABCDE", Site: "jaures", Role: "kiosk"},
		{AssetTag: "LP-2", Serial: "PF2ZZZZZ", Site: "jaures", Role: "loaner"},
	}
	kiosk := agentFrom(t, "a1", "kiosk.json", "jaures", cut.Add(-time.Minute))
	kiosk.Identity = Identity{Serial: "PF2ABCDE"}
	gone := agentFrom(t, "a2", "loaner-ready.json", "jaures", now.Add(-10*24*time.Hour)) // stale before the outage
	gone.Identity = Identity{Serial: "PF2ZZZZZ"}
	w := world(t, units, kiosk, gone)
	w.Dark = darkSite{site: "jaures", since: cut}

	k := w.StatusOf("K-1")
	if k.Liveness != LiveSiteDark {
		t.Errorf("kiosk of the dark site: liveness %s", k.Liveness)
	}
	i := slices.IndexFunc(k.Outcomes, func(o readiness.Outcome) bool { return o.Rule == "kiosk-seen" })
	if i < 0 || k.Outcomes[i].Reason != readiness.ReasonSiteDark {
		t.Fatalf("kiosk outcomes %+v: want kiosk-seen failing for the site", k.Outcomes)
	}
	for lang, want := range map[string]string{"en": "site link down — kiosk last checked in", "fr": "lien réseau du site coupé — station blanche"} {
		if msg := w.Rules.Message(k.Outcomes[i], lang); !strings.HasPrefix(msg, want) {
			t.Errorf("%s message %q, want it to start with %q", lang, msg, want)
		}
	}
	if g := w.StatusOf("LP-2"); g.Liveness != LiveStale {
		t.Errorf("unit silent long before the outage: liveness %s, want stale", g.Liveness)
	}
	w.Dark = nil
	if k := w.StatusOf("K-1"); k.Liveness != LiveOK || slices.ContainsFunc(k.Outcomes, func(o readiness.Outcome) bool { return o.Reason == readiness.ReasonSiteDark }) {
		t.Errorf("without a dark site: %+v", k)
	}
	sums := summaries{}
	w.Dark = darkSite{site: "jaures", since: cut}
	sums.apply(nil, w.StatusOf("K-1"))
	if rc := sums["jaures"].Roles["kiosk"]; rc.SiteDark != 1 || rc.Stale != 0 {
		t.Errorf("summary %+v", rc)
	}
}
