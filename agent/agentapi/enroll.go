package agentapi

import "time"

// EnrollRequest trades an enroll token for a per-agent credential. The
// identity fields let the server recognise a machine that enrolls again.
type EnrollRequest struct {
	// Token is the enroll token's credential part (EnrollToken.Credential);
	// the server also accepts the whole token with its CA hash.
	Token        string   `json:"token"`
	Hostname     string   `json:"hostname"`
	Serial       string   `json:"serial,omitempty"`
	HardwareUUID string   `json:"hardware_uuid,omitempty"`
	MACs         []string `json:"macs,omitempty"`
}

// EnrollResponse carries the agent's identity and credential. The agent
// keeps both in its state dir; the server keeps only a hash of Credential.
type EnrollResponse struct {
	AgentID    string `json:"agent_id"`
	Credential string `json:"credential"`
	Site       string `json:"site,omitempty"`
	Role       string `json:"role,omitempty"`
	Policy     Policy `json:"policy"`
	// CredentialExpiresAt is when Credential stops working unless rotated
	// (the server asks for a rotation well before, in CheckinResponse).
	CredentialExpiresAt time.Time `json:"credential_expires_at,omitzero"`
}

// Policy is what the server tells agents about how often to do things.
// Zero values mean "keep your configured default".
type Policy struct {
	CheckinIntervalSeconds   int `json:"checkin_interval_seconds,omitempty"`
	BandwidthIntervalSeconds int `json:"bandwidth_interval_seconds,omitempty"`
}
