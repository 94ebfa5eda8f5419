package agentapi

import "time"

// Checkin kinds.
const (
	KindReport    = "report"
	KindHeartbeat = "heartbeat"
)

// CheckinRequest is either a full report or a heartbeat. The agent sends a
// full report only when its fingerprint differs from the last one the server
// acknowledged; otherwise a heartbeat naming that fingerprint.
type CheckinRequest struct {
	Kind      string     `json:"kind"`
	Report    *Report    `json:"report,omitempty"`
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`
}

// Heartbeat says "still here, nothing changed since Fingerprint".
type Heartbeat struct {
	Fingerprint string    `json:"fingerprint"`
	SentAt      time.Time `json:"sent_at"`
}

// CheckinResponse acknowledges a check-in. For a report, Accepted means the
// report is durable in etcd and the agent may delete it from its spool.
type CheckinResponse struct {
	Accepted bool `json:"accepted"`
	// Seq is the highest report sequence number the server holds for this
	// agent. A report with Seq at or below it was already stored: the server
	// acknowledges it again without storing it twice.
	Seq uint64 `json:"seq"`
	// NeedFullReport asks the agent to send its full report at the next
	// check-in: the heartbeat's fingerprint is not the one the server holds.
	NeedFullReport bool   `json:"need_full_report,omitempty"`
	Policy         Policy `json:"policy"`
	// RotateCredential asks the agent to rotate its credential now
	// (PathCredentialRotate): it expires at CredentialExpiresAt.
	RotateCredential    bool      `json:"rotate_credential,omitempty"`
	CredentialExpiresAt time.Time `json:"credential_expires_at,omitzero"`
}

// ErrorResponse is the body of every 4xx and 5xx answer of the server.
type ErrorResponse struct {
	Error  string `json:"error"`
	Detail string `json:"detail,omitempty"`
}
