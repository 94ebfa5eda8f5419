package adminapi

import (
	"encoding/json"
	"time"
)

// Paths of the security part of the admin API.
const (
	PathTokens = "/api/v1/tokens"
	PathAgents = "/api/v1/agents"
	PathAudit  = "/api/v1/audit"
)

// TokenRequest creates a user token.
type TokenRequest struct {
	// Name says who holds the token ("jdoe", "ecole-a secretary").
	Name string `json:"name"`
	// Role is admin, technician, coordinator or viewer.
	Role string `json:"role"`
	// TTL is how long the token is valid, as a Go duration ("2160h"); ""
	// for valid until revoked.
	TTL string `json:"ttl,omitempty"`
}

// Token is a user token. Token, the secret, is shown only in the answer to
// its creation; the server keeps only its hash.
type Token struct {
	ID        string     `json:"id"`
	Token     string     `json:"token,omitempty"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// TokenList lists user tokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// EnrollTokenList lists enroll tokens.
type EnrollTokenList struct {
	Tokens []EnrollToken `json:"tokens"`
}

// RevokeRequest says why a credential is revoked ("unit retired",
// "stolen"); it goes into the audit log.
type RevokeRequest struct {
	Reason string `json:"reason,omitempty"`
}

// AgentCredential is the state of an enrolled agent's credential.
type AgentCredential struct {
	ID              string     `json:"id"`
	Hostname        string     `json:"hostname"`
	Site            string     `json:"site,omitempty"`
	EnrolledAt      time.Time  `json:"enrolled_at"`
	EnrollToken     string     `json:"enroll_token,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	RotatedAt       *time.Time `json:"rotated_at,omitempty"`
	RotationPending bool       `json:"rotation_pending,omitempty"`
	RotateRequested bool       `json:"rotate_requested,omitempty"`
	Revoked         bool       `json:"revoked,omitempty"`
	RevokedAt       *time.Time `json:"revoked_at,omitempty"`
	RevokedBy       string     `json:"revoked_by,omitempty"`
	RevokeReason    string     `json:"revoke_reason,omitempty"`
}

// AuditEntry is one line of the audit log: who did what to which object
// when, with the object before and after (absent for a read, a creation or
// a deletion), never a secret.
type AuditEntry struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Actor is the principal ("user:ab12 (jdoe)", "agent:cd34 (lp-07)",
	// "enroll-token:ef56", "system").
	Actor string `json:"actor"`
	// Action is area.verb: "token.create", "agent.revoke",
	// "personal-data.read", "loan.create".
	Action string `json:"action"`
	// Object is kind/id: "token/ab12", "borrower/s-0042".
	Object string          `json:"object"`
	Site   string          `json:"site,omitempty"`
	Detail string          `json:"detail,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// AuditList is a page of the audit log, oldest first. Next, when set, is
// the value of ?after= for the next page.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}
