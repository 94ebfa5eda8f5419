package store

import (
	"fmt"
	"strings"
)

// LayoutVersion is the version of the key layout below. A change of layout
// that old servers cannot read gets a new version, and a migration.
const LayoutVersion = "v1"

// The key layout, under Root() (e.g. /parc/v1/). IDs are validated by
// ValidID before they become part of a key, so a key never holds a "/".
//
//	agents/<agentID>                 an enrolled agent: identity, credential hash, site, role
//	observed/<agentID>               the agent's latest report, as acknowledged
//	reportlog/<agentID>/<seq>        one small receipt per report stored (seq zero-padded)
//	lastseen/<agentID>               server time of the last heartbeat, unix seconds (a full
//	                                 report's is its observed received_at; readers take the later)
//	tokens/<tokenID>                 a user token: role, name, hash of its secret
//	enrolltokens/<tokenID>           an enroll token: site, role, uses, expiry, hash
//	sites/<siteID>                   a declared site
//	classrooms/<classroomID>         a declared classroom, naming its site
//	carts/<cartID>                   a declared cart or charging cabinet: site, slots
//	declared/<assetTag>              a declared unit
//	meta/inventory-gen               rewritten by every inventory write: its revision orders them
//	imports/active                   the import being applied (blocks other inventory writes)
//	imports/<importID>/<chunk>       an import's staged writes, replayed if its importer dies
//	loans/<loanID>                   a loan, with its history; ids sort by check-out time
//	activeloans/<assetTag>           the loan holding a unit (active, lost or abandoned): at most one
//	needs/<siteID>                   students needing a device at a site, per category and device type
//	sitelinks/<siteID>               the site's network link state (package sitelink), written by the elected reconciler
//	audit/<time>-<entryID>           an audit entry; <time> sorts (UTC, fixed width), so
//	                                 listing is chronological and retention deletes a range
//	sessions/<sha256 of secret>      a web UI session: its token and CSRF secret, under a lease
//	                                 that ends it (any replica accepts it)
//	meta/ca                          the cluster's CA certificate (PEM; never its key):
//	                                 every replica must serve under the CA agents pin
//	replicas/<name>                  a running parc-server replica and its etcd member, under
//	                                 a lease it renews through that member (gone when it dies)
const (
	KindAgents       = "agents"
	KindObserved     = "observed"
	KindReportLog    = "reportlog"
	KindLastSeen     = "lastseen"
	KindTokens       = "tokens"
	KindEnrollTokens = "enrolltokens"
	KindSites        = "sites"
	KindClassrooms   = "classrooms"
	KindCarts        = "carts"
	KindDeclared     = "declared"
	KindImports      = "imports"
	KindMeta         = "meta"
	KindAudit        = "audit"
	KindLoans        = "loans"
	KindActiveLoans  = "activeloans"
	KindNeeds        = "needs"
	KindSessions     = "sessions"
	KindReplicas     = "replicas"
)

// Key builds the key of a record: Root()/kind/id[/sub...].
func (s *Store) Key(kind string, id string, sub ...string) string {
	var b strings.Builder
	b.WriteString(s.root)
	b.WriteString(kind)
	b.WriteByte('/')
	b.WriteString(id)
	for _, p := range sub {
		b.WriteByte('/')
		b.WriteString(p)
	}
	return b.String()
}

// Prefix is the prefix of every key of a kind: Root()/kind/.
func (s *Store) Prefix(kind string) string { return s.root + kind + "/" }

// IDFromKey returns the id part of a key built by Key(kind, id, ...).
func (s *Store) IDFromKey(kind, key string) string {
	rest := strings.TrimPrefix(key, s.Prefix(kind))
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// SeqKey formats a sequence number so that keys sort in numeric order.
func SeqKey(seq uint64) string { return fmt.Sprintf("%020d", seq) }

// MaxIDLen bounds ids in keys and URLs.
const MaxIDLen = 128

// ValidID reports whether id may be used in a key: 1 to MaxIDLen characters
// of letters, digits, '-', '_', '.', ':' and '@', not "." or "..". Asset
// tags people type ("LP-0042", "ECOLE.JAURES:12") fit; path tricks do not.
func ValidID(id string) error {
	if id == "" {
		return fmt.Errorf("empty id")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("id longer than %d characters", MaxIDLen)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("id %q not allowed", id)
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.', r == ':', r == '@':
		default:
			return fmt.Errorf("id %q: character %q not allowed (letters, digits, - _ . : @)", id, r)
		}
	}
	return nil
}
