package reconcile

import (
	"strings"
	"testing"

	"github.com/parc-project/parc/controlplane/inventory"
)

func TestCleanSerial(t *testing.T) {
	for _, s := range []string{"", " ", "To be filled by O.E.M.", "Default string", "System Serial Number", "0", "00000000", "XXXXXXXXXX", "N/A", "None"} {
		if got := CleanSerial(s); got != "" {
			t.Errorf("CleanSerial(%q) = %q, want placeholder", s, got)
		}
	}
	if got := CleanSerial(" PF2ABCDE "); got != "pf2abcde" {
		t.Errorf("CleanSerial = %q", got)
	}
}

func TestMatchRules(t *testing.T) {
	units := map[string]inventory.Unit{
		"LP-1": {AssetTag: "LP-1", Serial: "PF1", HardwareUUID: "uuid-1"},
		"LP-2": {AssetTag: "LP-2", Serial: "PF2"},
		"LP-3": {AssetTag: "LP-3", Serial: "To be filled by O.E.M.", HardwareUUID: "uuid-3"},
		"LP-4": {AssetTag: "LP-4", Serial: "Default string", MAC: "AA-BB-CC-00-00-04"},
		// Two units declared with one serial: a typing mistake, or a swapped board.
		"LP-5a": {AssetTag: "LP-5a", Serial: "PF5"},
		"LP-5b": {AssetTag: "LP-5b", Serial: "PF5"},
		// Same serial, told apart by UUID.
		"LP-6a": {AssetTag: "LP-6a", Serial: "PF6", HardwareUUID: "uuid-6a"},
		"LP-6b": {AssetTag: "LP-6b", Serial: "PF6", HardwareUUID: "uuid-6b"},
	}
	tests := []struct {
		name     string
		agent    Identity
		wantTags string
		wantRule string
	}{
		{"serial and uuid", Identity{Serial: "pf1", UUID: "UUID-1"}, "LP-1", RuleSerialUUID},
		{"serial, uuid unknown", Identity{Serial: "PF2"}, "LP-2", RuleSerial},
		{"serial wins over a wrong uuid", Identity{Serial: "PF2", UUID: "uuid-1"}, "LP-2", RuleSerial},
		{"placeholder serial never matches, uuid does", Identity{Serial: "To be filled by O.E.M.", UUID: "uuid-3"}, "LP-3", RuleUUID},
		{"placeholder on both sides does not match", Identity{Serial: "Default string"}, "", ""},
		{"mac as the last resort", Identity{Serial: "Default string", MACs: []string{"de:ad:00:00:00:01", "aa:bb:cc:00:00:04"}}, "LP-4", RuleMAC},
		{"one agent, two declared units", Identity{Serial: "PF5"}, "LP-5a,LP-5b", RuleSerial},
		{"serial+uuid picks one of two", Identity{Serial: "PF6", UUID: "uuid-6b"}, "LP-6b", RuleSerialUUID},
		{"nothing", Identity{Serial: "OTHER"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MatchAll(units, map[string]Identity{"a": tt.agent})
			am := m.ByAgent["a"]
			if strings.Join(am.Tags, ",") != tt.wantTags || am.Rule != tt.wantRule {
				t.Errorf("matched %v by %q, want %s by %q", am.Tags, am.Rule, tt.wantTags, tt.wantRule)
			}
		})
	}
}

func TestTwoAgentsOneUnit(t *testing.T) {
	units := map[string]inventory.Unit{"LP-1": {AssetTag: "LP-1", Serial: "PF1"}}
	m := MatchAll(units, map[string]Identity{"old": {Serial: "PF1"}, "new": {Serial: "PF1"}})
	if got := strings.Join(m.ByTag["LP-1"], ","); got != "new,old" {
		t.Errorf("agents of LP-1: %s", got)
	}
}
