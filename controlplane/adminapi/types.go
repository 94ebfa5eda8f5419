// Package adminapi holds the wire types of the admin API, shared by
// parc-server's handlers and by parcctl.
package adminapi

import (
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Paths of the admin API.
const (
	PathUnits           = "/api/v1/units"
	PathEnrollTokens    = "/api/v1/enroll-tokens"
	PathSites           = "/api/v1/sites"
	PathClassrooms      = "/api/v1/classrooms"
	PathCarts           = "/api/v1/carts"
	PathImportInventory = "/api/v1/imports/inventory"
	PathExportInventory = "/api/v1/exports/inventory"
	PathReadiness       = "/api/v1/readiness"
)

// Unit is one unit as the admin API shows it: a declared unit (its id is
// the asset tag) or an agent nobody declared (its id is the agent id), with
// what the reconciler concluded.
type Unit struct {
	ID       string `json:"id"`
	AssetTag string `json:"asset_tag,omitempty"`
	Agent    string `json:"agent,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Site     string `json:"site,omitempty"`
	// Placed is the site a unit assigned elsewhere is at; SeenSite the site
	// its agent's enroll token names when that differs from the declared one.
	Placed   string `json:"placed,omitempty"`
	SeenSite string `json:"seen_site,omitempty"`
	Role     string `json:"role,omitempty"`

	// Reconcile is matched, never_seen, not_declared, duplicate, or pending
	// (the reconciler has not judged it yet).
	Reconcile   string   `json:"reconcile"`
	MatchRule   string   `json:"match_rule,omitempty"`
	Flags       []string `json:"flags,omitempty"`
	Others      []string `json:"other_agents,omitempty"`
	DuplicateOf string   `json:"duplicate_of,omitempty"`
	// Liveness is ok, stale, missing or never (server clock).
	Liveness string `json:"liveness,omitempty"`
	// Readiness is ready, not_ready or unknown; Reasons explains the last two.
	Readiness string   `json:"readiness,omitempty"`
	Reasons   []Reason `json:"reasons,omitempty"`

	// Declared facts.
	Serial       string `json:"serial,omitempty"`
	Model        string `json:"model,omitempty"`
	PurchaseDate string `json:"purchase_date,omitempty"`
	Classroom    string `json:"classroom,omitempty"`
	Cart         string `json:"cart,omitempty"`
	Slot         int    `json:"slot,omitempty"`

	// Observed facts.
	OS              string     `json:"os,omitempty"`
	Platform        string     `json:"platform,omitempty"`
	PlatformVersion string     `json:"platform_version,omitempty"`
	Vendor          string     `json:"vendor,omitempty"`
	HardwareUUID    string     `json:"hardware_uuid,omitempty"`
	EnrolledAt      *time.Time `json:"enrolled_at,omitempty"`
	// LastSeen is the server time of the last check-in; nil if never.
	LastSeen         *time.Time `json:"last_seen,omitempty"`
	ReportSeq        uint64     `json:"report_seq,omitempty"`
	ReportReceivedAt *time.Time `json:"report_received_at,omitempty"`

	// Report is the full latest report; only in GET /api/v1/units/{id}.
	Report *agentapi.Report `json:"report,omitempty"`
}

// Reason is one readiness rule a unit does not pass.
type Reason struct {
	Rule      string `json:"rule"`
	Result    string `json:"result"` // fail or unknown
	Measured  string `json:"measured,omitempty"`
	Threshold string `json:"threshold,omitempty"`
	// Message is what a technician reads, in the requested language.
	Message string `json:"message"`
}

// UnitList is a page of units. Next, when set, is the value of ?after= for
// the next page.
type UnitList struct {
	Units []Unit `json:"units"`
	Next  string `json:"next,omitempty"`
}

// EnrollTokenRequest creates an enroll token.
type EnrollTokenRequest struct {
	// Site scopes the token: agents enrolled with it belong to this site.
	Site string `json:"site,omitempty"`
	// Role is the role units enrolled with it are judged by until declared.
	Role string `json:"role,omitempty"`
	// TTL is how long the token is valid, as a Go duration ("72h"); "" for
	// no expiry.
	TTL string `json:"ttl,omitempty"`
	// MaxUses limits how many agents may enroll with it; 0 for unlimited.
	MaxUses int `json:"max_uses,omitempty"`
}

// EnrollToken is an enroll token. Token, the secret with the server's CA
// hash (pe_<id>.<secret>@sha256:<hex>), is shown only in the answer to its
// creation.
type EnrollToken struct {
	ID        string     `json:"id"`
	Token     string     `json:"token,omitempty"`
	Site      string     `json:"site,omitempty"`
	Role      string     `json:"role,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	MaxUses   int        `json:"max_uses,omitempty"`
	Uses      int        `json:"uses"`
	// CACertHash is the hash of the CA agents pin ("" without TLS).
	CACertHash string     `json:"ca_cert_hash,omitempty"`
	Revoked    bool       `json:"revoked,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Readiness is the readiness summary of some sites.
type Readiness struct {
	Sites []SiteReadiness `json:"sites"`
	// Rules describes each rule id the counts name, in the requested language.
	Rules map[string]string `json:"rules,omitempty"`
}

// SiteReadiness counts one site's units by role.
type SiteReadiness struct {
	Site  string                   `json:"site"`
	Roles map[string]RoleReadiness `json:"roles"`
}

// RoleReadiness counts one role's units at a site: Units = Ready + NotReady
// + Unknown.
type RoleReadiness struct {
	Units       int            `json:"units"`
	Ready       int            `json:"ready"`
	NotReady    int            `json:"not_ready"`
	Unknown     int            `json:"unknown"`
	Failing     map[string]int `json:"failing,omitempty"`
	Unknowns    map[string]int `json:"unknowns,omitempty"`
	NeverSeen   int            `json:"never_seen,omitempty"`
	NotDeclared int            `json:"not_declared,omitempty"`
	WrongSite   int            `json:"wrong_site,omitempty"`
	Stale       int            `json:"stale,omitempty"`
	Missing     int            `json:"missing,omitempty"`
	// SiteDark counts units silent because their site's link is down
	// (counted there instead of stale or missing).
	SiteDark   int `json:"site_dark,omitempty"`
	Duplicates int `json:"duplicates,omitempty"`
}
