package runner

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/durable"
	"github.com/parc-project/parc/agent/state"
)

// loadTrust pins the CA to trust: --ca-file, or the CA pinned at
// enrollment. Before enrollment there may be none yet (pinCA fetches it).
func (r *Runner) loadTrust() error {
	if !r.Client.HTTPS() {
		return nil
	}
	path := r.CAFile
	if path == "" {
		path = filepath.Join(r.StateDir, state.CAFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if r.state.Enrolled() {
				return fmt.Errorf("this agent is enrolled but pinned no CA (it enrolled over http): pass --ca-file, or move %s away and enroll again with a new token", filepath.Join(r.StateDir, state.FileName))
			}
			return nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the CA to trust: %w", err)
	}
	certs, err := agentapi.ParseCertificates(data)
	if err != nil {
		return fmt.Errorf("CA file %s: %w", path, err)
	}
	r.Client.PinCA(certs)
	r.pinned = certs
	return nil
}

// pinCA makes sure that, before the agent sends its enroll token, it
// trusts exactly the CA the token names: fetched from the server and kept
// only if its hash matches the token's, then saved in the state dir.
func (r *Runner) pinCA(ctx context.Context, tok agentapi.EnrollToken) error {
	if !r.Client.HTTPS() {
		if tok.CAHash != "" {
			return fmt.Errorf("the enroll token names a CA but the server URL %s is not https: use https://", r.Server)
		}
		return nil
	}
	if r.pinned != nil {
		if tok.CAHash != "" && !slices.ContainsFunc(r.pinned, func(c *x509.Certificate) bool { return agentapi.CAHash(c) == tok.CAHash }) {
			return fmt.Errorf("the enroll token was made for a server under CA %s, not the CA this agent trusts (%s): get a token from this server", tok.CAHash, agentapi.CAHash(r.pinned[0]))
		}
		return nil
	}
	if tok.CAHash == "" {
		return errors.New("the enroll token names no CA (no @sha256:...) and no --ca-file is given: nothing to check the server with; use a token printed by 'parcctl enroll-token create'")
	}
	data, ca, err := r.Client.FetchCA(ctx, tok.CAHash)
	if err != nil {
		return fmt.Errorf("pinning the server's CA: %w", err)
	}
	if err := os.MkdirAll(r.StateDir, 0o700); err != nil {
		return fmt.Errorf("creating state dir: %w", err)
	}
	if err := durable.WriteFile(filepath.Join(r.StateDir, state.CAFile), data, 0o644); err != nil {
		return err
	}
	r.pinned = []*x509.Certificate{ca}
	r.Client.PinCA(r.pinned)
	r.Log.Info("server CA pinned", "ca_hash", tok.CAHash, "subject", ca.Subject.String())
	return nil
}

// ensureEnrolled enrolls the agent if it holds no credential yet, naming
// the machine by the report's identity facts.
func (r *Runner) ensureEnrolled(ctx context.Context, rep *agentapi.Report) error {
	if r.state.Enrolled() {
		return nil
	}
	if r.EnrollToken == "" {
		return errors.New("not enrolled and no enroll token: pass --enroll-token (create one with 'parcctl enroll-token create')")
	}
	tok, err := agentapi.ParseEnrollToken(r.EnrollToken)
	if err != nil {
		return fmt.Errorf("--enroll-token: %w", err)
	}
	if err := r.pinCA(ctx, tok); err != nil {
		return err
	}
	req := agentapi.EnrollRequest{Token: tok.Credential, Hostname: rep.Host.Hostname,
		Serial: rep.Host.Serial, HardwareUUID: rep.Host.HardwareUUID}
	for _, nic := range rep.Host.Interfaces {
		req.MACs = append(req.MACs, nic.MAC)
	}
	resp, err := r.Client.Enroll(ctx, req)
	if err != nil {
		return fmt.Errorf("enrolling with %s: %w", r.Server, err)
	}
	r.state.Server, r.state.AgentID, r.state.Credential = r.Server, resp.AgentID, resp.Credential
	r.state.Site, r.state.Role, r.state.EnrolledAt = resp.Site, resp.Role, r.Now().UTC()
	r.state.EnrollTokenID, r.state.CredentialExpiresAt = tok.ID(), resp.CredentialExpiresAt
	if err := r.state.Save(r.StateDir); err != nil {
		return fmt.Errorf("enrolled as %s but could not keep the credential: %w", resp.AgentID, err)
	}
	r.Client.SetCredential(resp.Credential)
	r.applyPolicy(resp.Policy)
	r.Log.Info("enrolled", "agent", resp.AgentID, "site", resp.Site, "role", resp.Role)
	return nil
}

// refused handles a credential the server refuses (revoked, expired): the
// agent enrolls again, as a new agent, only when given an enroll token
// other than the one it enrolled with. A revoked unit never comes back by
// itself.
func (r *Runner) refused(ctx context.Context, rep *agentapi.Report, cause error) error {
	tok, err := agentapi.ParseEnrollToken(r.EnrollToken)
	if r.EnrollToken == "" || err != nil || tok.ID() == r.state.EnrollTokenID {
		return fmt.Errorf("the server refuses this agent's credential (%w): enroll it again with a new enroll token (--enroll-token)", cause)
	}
	r.Log.Warn("the server refuses this agent's credential; enrolling again with the new enroll token", "agent", r.state.AgentID, "err", cause)
	// A new identity, but the same sequence of reports: what waits in the
	// spool keeps its numbers, and new reports come after them.
	r.state = state.State{LastSeq: r.state.LastSeq, Bandwidth: r.state.Bandwidth}
	r.rotateDue = false
	r.Client.SetCredential("")
	if err := r.ensureEnrolled(ctx, rep); err != nil {
		return err
	}
	return r.checkin(ctx, rep)
}

// rotate gets a new credential and confirms it. The new credential is on
// disk before it is confirmed, and the old one stays valid until then, so
// a crash at any point leaves the agent a working credential.
func (r *Runner) rotate(ctx context.Context) error {
	resp, err := r.Client.RotateCredential(ctx)
	if err != nil {
		return fmt.Errorf("rotating the credential: %w", err)
	}
	r.state.PendingCredential = resp.Credential
	if err := r.state.Save(r.StateDir); err != nil {
		return fmt.Errorf("keeping the rotated credential: %w", err)
	}
	return r.confirmPending(ctx)
}

// confirmPending confirms a rotated credential kept on disk, making it the
// one in use.
func (r *Runner) confirmPending(ctx context.Context) error {
	resp, err := r.Client.ConfirmCredential(ctx, r.state.PendingCredential)
	if client.IsUnauthorized(err) {
		// Replaced by a later rotation that never reached this disk, or the
		// agent was revoked: the current credential decides.
		r.state.PendingCredential = ""
		if serr := r.state.Save(r.StateDir); serr != nil {
			return serr
		}
		return fmt.Errorf("rotated credential refused, keeping the current one: %w", err)
	}
	if err != nil {
		return fmt.Errorf("confirming the rotated credential (the current one stays in use meanwhile): %w", err)
	}
	r.state.Credential, r.state.PendingCredential, r.state.CredentialExpiresAt = r.state.PendingCredential, "", resp.ExpiresAt
	r.rotateDue = false
	if err := r.state.Save(r.StateDir); err != nil {
		return fmt.Errorf("keeping the confirmed credential: %w", err)
	}
	r.Log.Info("credential rotated", "expires", resp.ExpiresAt)
	return nil
}
