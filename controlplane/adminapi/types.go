// Package adminapi holds the wire types of the admin API, shared by
// parc-server's handlers and by parcctl.
package adminapi

import (
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Paths of the admin API.
const (
	PathUnits        = "/api/v1/units"
	PathEnrollTokens = "/api/v1/enroll-tokens"
)

// Unit is one unit as the admin API shows it.
type Unit struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	Site     string `json:"site,omitempty"`
	Role     string `json:"role,omitempty"`

	OS              string `json:"os,omitempty"`
	Platform        string `json:"platform,omitempty"`
	PlatformVersion string `json:"platform_version,omitempty"`
	Vendor          string `json:"vendor,omitempty"`
	Model           string `json:"model,omitempty"`
	Serial          string `json:"serial,omitempty"`
	HardwareUUID    string `json:"hardware_uuid,omitempty"`

	EnrolledAt time.Time `json:"enrolled_at"`
	// LastSeen is the server time of the last check-in; nil if never.
	LastSeen         *time.Time `json:"last_seen,omitempty"`
	ReportSeq        uint64     `json:"report_seq,omitempty"`
	ReportReceivedAt *time.Time `json:"report_received_at,omitempty"`

	// Report is the full latest report; only in GET /api/v1/units/{id}.
	Report *agentapi.Report `json:"report,omitempty"`
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

// EnrollToken is a created enroll token. Token, the secret, is shown only
// in the answer to its creation.
type EnrollToken struct {
	ID        string     `json:"id"`
	Token     string     `json:"token,omitempty"`
	Site      string     `json:"site,omitempty"`
	Role      string     `json:"role,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	MaxUses   int        `json:"max_uses,omitempty"`
	Uses      int        `json:"uses"`
}
