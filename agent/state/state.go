// Package state keeps what the agent must remember across restarts: its
// identity and credential, and the sequence number and fingerprint of the
// last report the server acknowledged. The file is readable by its owner
// only and replaced atomically, so a crash never leaves half a state.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/durable"
)

// FileName is the state file in the agent's state dir.
const FileName = "state.json"

// CAFile is the CA certificate the agent pinned when it enrolled, in its
// state dir: from then on the only certificate it trusts for the server.
const CAFile = "ca.crt"

// State is the agent's memory.
type State struct {
	Server     string    `json:"server,omitempty"`
	AgentID    string    `json:"agent_id,omitempty"`
	Credential string    `json:"credential,omitempty"`
	Site       string    `json:"site,omitempty"`
	Role       string    `json:"role,omitempty"`
	EnrolledAt time.Time `json:"enrolled_at,omitzero"`
	// EnrollTokenID names the enroll token the agent enrolled with: once
	// its credential is refused (revoked), it enrolls again only with
	// another token, never by itself.
	EnrollTokenID       string    `json:"enroll_token_id,omitempty"`
	CredentialExpiresAt time.Time `json:"credential_expires_at,omitzero"`
	// PendingCredential is a rotated credential the server has not
	// confirmed yet; Credential stays the one in use until it has.
	PendingCredential string `json:"pending_credential,omitempty"`

	// LastSeq and LastFingerprint describe the newest report produced (it
	// may still wait in the spool): a report with the same content is not
	// produced again.
	LastSeq         uint64 `json:"last_seq"`
	LastFingerprint string `json:"last_fingerprint,omitempty"`
	// AckedSeq and AckedFingerprint describe the newest report the server
	// acknowledged: while the content stays the same, heartbeats suffice.
	AckedSeq         uint64 `json:"acked_seq"`
	AckedFingerprint string `json:"acked_fingerprint,omitempty"`

	// Bandwidth is the last measurement, reported until the next one: a
	// restart does not measure again before it is due.
	Bandwidth *agentapi.BandwidthFacts `json:"bandwidth,omitempty"`
	// Link is a probe's last link measurement, reported until the next.
	Link *agentapi.LinkFacts `json:"link,omitempty"`
}

// Enrolled reports whether the agent holds a credential.
func (s State) Enrolled() bool { return s.Credential != "" }

// Load reads the state in dir; a missing file is a fresh agent.
func Load(dir string) (State, error) {
	var s State
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading agent state: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("agent state %s is corrupt (%w); move it away to enroll again", filepath.Join(dir, FileName), err)
	}
	return s, nil
}

// Save writes the state to dir, mode 0600, atomically and durably.
func (s State) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state dir: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(dir, FileName), data, 0o600)
}
