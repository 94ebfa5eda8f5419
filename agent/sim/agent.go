// Package sim simulates parc agents with the agent's own wire types and
// client: parc-sim drives thousands of them against a server, and
// end-to-end tests drive a few with chosen facts.
package sim

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

// Agent is one simulated, enrolled agent.
type Agent struct {
	ID         string
	Credential string
	Client     *client.Client
	// Report is the content it reports; change it and Send.
	Report agentapi.Report
	// Seq and Acked follow the real agent's state: the last sequence number
	// used and the fingerprint the server last acknowledged.
	Seq   uint64
	Acked string
}

// Enroll enrolls a simulated agent whose machine is described by host.
// With hc nil over https it pins the CA the token names, as parc-agent
// does; hc, when given, carries the trust (one client for many agents).
func Enroll(ctx context.Context, serverURL string, hc *http.Client, token string, host agentapi.HostFacts) (*Agent, error) {
	c, err := client.New(serverURL, hc, "parc-sim")
	if err != nil {
		return nil, err
	}
	tok, err := agentapi.ParseEnrollToken(token)
	if err != nil {
		return nil, fmt.Errorf("enroll token: %w", err)
	}
	if hc == nil && c.HTTPS() {
		_, ca, err := c.FetchCA(ctx, tok.CAHash)
		if err != nil {
			return nil, err
		}
		c.PinCA([]*x509.Certificate{ca})
	}
	req := agentapi.EnrollRequest{Token: tok.Credential, Hostname: host.Hostname, Serial: host.Serial, HardwareUUID: host.HardwareUUID}
	for _, nic := range host.Interfaces {
		req.MACs = append(req.MACs, nic.MAC)
	}
	resp, err := c.Enroll(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("enrolling %s: %w", host.Hostname, err)
	}
	c.SetCredential(resp.Credential)
	return &Agent{ID: resp.AgentID, Credential: resp.Credential, Client: c,
		Report: agentapi.Report{Schema: agentapi.SchemaVersion, Host: host}}, nil
}

// Send sends the current report as the next full report, as the agent does
// when its content changed.
func (a *Agent) Send(ctx context.Context) (agentapi.CheckinResponse, error) {
	a.Seq++
	r := a.Report
	r.Seq = a.Seq
	r.CollectedAt = time.Now().UTC()
	r.Fingerprint = r.ComputeFingerprint()
	resp, err := a.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindReport, Report: &r})
	if err == nil && resp.Accepted {
		a.Acked = r.Fingerprint
	}
	return resp, err
}

// Heartbeat says the content is unchanged since the acknowledged report.
func (a *Agent) Heartbeat(ctx context.Context) (agentapi.CheckinResponse, error) {
	return a.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindHeartbeat,
		Heartbeat: &agentapi.Heartbeat{Fingerprint: a.Acked, SentAt: time.Now().UTC()}})
}

// Checkin does what the real agent does each cycle: a full report when the
// content's fingerprint differs from the acknowledged one (or the server
// asks), a heartbeat otherwise. It reports whether it sent a full report.
func (a *Agent) Checkin(ctx context.Context) (full bool, resp agentapi.CheckinResponse, err error) {
	r := a.Report
	if r.ComputeFingerprint() != a.Acked {
		resp, err = a.Send(ctx)
		return true, resp, err
	}
	resp, err = a.Heartbeat(ctx)
	if err == nil && resp.NeedFullReport {
		resp, err = a.Send(ctx)
		return true, resp, err
	}
	return false, resp, err
}
