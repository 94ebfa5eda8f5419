package agentapi

import "time"

// CredentialResponse answers a credential rotation or confirmation: the
// credential (only in the answer to a rotation) and when it expires.
type CredentialResponse struct {
	Credential string    `json:"credential,omitempty"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
}
