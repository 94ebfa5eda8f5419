// Package reconcile matches what agents observe to what the organisation
// declared, judges each unit's readiness, and keeps per-site summaries in
// etcd. One parc-server replica at a time runs it (an etcd election); it is
// level-triggered and idempotent: it reacts to watch events and resyncs
// periodically, and writes a status only when it changed.
package reconcile

import (
	"slices"
	"strings"

	"github.com/parc-project/parc/controlplane/inventory"
)

// Identity is what an agent says identifies its machine.
type Identity struct {
	Serial string
	UUID   string
	MACs   []string
}

// Matching rules, best first.
const (
	RuleSerialUUID = "serial+uuid"
	RuleSerial     = "serial"
	RuleUUID       = "uuid"
	RuleMAC        = "mac"
)

// placeholderSerials are values firmware ships when nobody filled the
// field: they identify nothing, and two machines share them.
var placeholderSerials = []string{
	"", "0", "none", "n/a", "na", "null", "unknown", "invalid", "default", "default string",
	"to be filled by o.e.m.", "to be filled by oem", "o.e.m.", "oem", "system serial number",
	"chassis serial number", "serial number", "not specified", "not applicable", "not available",
	"123456789", "0123456789", "1234567890", "sn12345678", "empty", "base board serial number",
}

// placeholderUUIDs likewise.
var placeholderUUIDs = []string{
	"", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
	"03000200-0400-0500-0006-000700080009", "00020003-0004-0005-0006-000700080009",
}

// CleanSerial returns a comparable serial, or "" for a placeholder.
func CleanSerial(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if slices.Contains(placeholderSerials, s) || sameRune(s) {
		return ""
	}
	return s
}

// CleanUUID returns a comparable hardware UUID, or "" for a placeholder.
func CleanUUID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if slices.Contains(placeholderUUIDs, s) {
		return ""
	}
	return s
}

// CleanMAC returns a comparable MAC, or "" for an all-zero or broadcast one.
func CleanMAC(s string) string {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ":"))
	switch s {
	case "", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff":
		return ""
	}
	return s
}

// sameRune reports strings such as "00000000" or "xxxxxxxx".
func sameRune(s string) bool {
	if len(s) < 4 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// Match is the result of matching agents to declared units.
type Match struct {
	// ByTag lists, per declared unit, the agents matched to it (by the best
	// rule each agent matched with).
	ByTag map[string][]string
	// ByAgent gives, per matched agent, the declared units it matched and
	// the rule it matched them by. More than one unit is a duplicate.
	ByAgent map[string]AgentMatch
}

// AgentMatch is what one agent matched.
type AgentMatch struct {
	Tags []string
	Rule string
}

// matchIndex finds declared units by identity.
type matchIndex struct {
	serial, uuid, mac map[string][]string
}

func newMatchIndex(units map[string]inventory.Unit) *matchIndex {
	ix := &matchIndex{serial: map[string][]string{}, uuid: map[string][]string{}, mac: map[string][]string{}}
	for tag, u := range units {
		if s := CleanSerial(u.Serial); s != "" {
			ix.serial[s] = append(ix.serial[s], tag)
		}
		if id := CleanUUID(u.HardwareUUID); id != "" {
			ix.uuid[id] = append(ix.uuid[id], tag)
		}
		if m := CleanMAC(u.MAC); m != "" {
			ix.mac[m] = append(ix.mac[m], tag)
		}
	}
	return ix
}

// find applies the ranked rules to one agent: the first rule that finds any
// declared unit decides.
func (ix *matchIndex) find(id Identity, units map[string]inventory.Unit) AgentMatch {
	serial, uuid := CleanSerial(id.Serial), CleanUUID(id.UUID)
	if serial != "" && uuid != "" {
		var both []string
		for _, tag := range ix.serial[serial] {
			if CleanUUID(units[tag].HardwareUUID) == uuid {
				both = append(both, tag)
			}
		}
		if len(both) > 0 {
			return AgentMatch{Tags: sorted(both), Rule: RuleSerialUUID}
		}
	}
	if tags := ix.serial[serial]; serial != "" && len(tags) > 0 {
		return AgentMatch{Tags: sorted(tags), Rule: RuleSerial}
	}
	if tags := ix.uuid[uuid]; uuid != "" && len(tags) > 0 {
		return AgentMatch{Tags: sorted(tags), Rule: RuleUUID}
	}
	var byMAC []string
	for _, m := range id.MACs {
		for _, tag := range ix.mac[CleanMAC(m)] {
			if !slices.Contains(byMAC, tag) {
				byMAC = append(byMAC, tag)
			}
		}
	}
	if len(byMAC) > 0 {
		return AgentMatch{Tags: sorted(byMAC), Rule: RuleMAC}
	}
	return AgentMatch{}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// MatchAll matches every agent to the declared units.
func MatchAll(units map[string]inventory.Unit, agents map[string]Identity) Match {
	ix := newMatchIndex(units)
	m := Match{ByTag: map[string][]string{}, ByAgent: map[string]AgentMatch{}}
	for agent, id := range agents {
		am := ix.find(id, units)
		if len(am.Tags) == 0 {
			continue
		}
		m.ByAgent[agent] = am
		for _, tag := range am.Tags {
			m.ByTag[tag] = append(m.ByTag[tag], agent)
		}
	}
	for tag := range m.ByTag {
		slices.Sort(m.ByTag[tag])
	}
	return m
}
