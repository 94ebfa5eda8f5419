// Package runner is the agent's cycle: collect a report, decide between a
// full report and a heartbeat, send it, remember what the server
// acknowledged; and the loop that repeats it on an interval with jitter.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/collect"
	"github.com/parc-project/parc/agent/state"
)

// Runner runs an agent's collection cycles. Build it with every field set.
type Runner struct {
	Collectors     []collect.Collector
	CollectTimeout time.Duration
	Client         *client.Client
	Server         string
	StateDir       string
	EnrollToken    string
	Interval       time.Duration
	Jitter         float64
	Version        string
	Log            *slog.Logger
	Now            func() time.Time

	state state.State
}

// Collect runs every collector and returns the report with its fingerprint
// set (no sequence number: that is given only to a report that is sent).
func (r *Runner) Collect(ctx context.Context) *agentapi.Report {
	rep := &agentapi.Report{Schema: agentapi.SchemaVersion, CollectedAt: r.Now().UTC(), AgentVersion: r.Version}
	collect.Run(ctx, r.Collectors, rep, r.CollectTimeout, r.Log)
	rep.Fingerprint = rep.ComputeFingerprint()
	return rep
}

// Load reads the agent's state from its state dir.
func (r *Runner) Load() error {
	st, err := state.Load(r.StateDir)
	if err != nil {
		return err
	}
	r.state = st
	if st.Enrolled() {
		r.Client.SetCredential(st.Credential)
		if st.Server != "" && st.Server != r.Server {
			r.Log.Warn("enrolled with another server; keeping that credential", "enrolled_with", st.Server, "configured", r.Server)
		}
	}
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
	req := agentapi.EnrollRequest{Token: r.EnrollToken, Hostname: rep.Host.Hostname,
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
	if err := r.state.Save(r.StateDir); err != nil {
		return fmt.Errorf("enrolled as %s but could not keep the credential: %w", resp.AgentID, err)
	}
	r.Client.SetCredential(resp.Credential)
	r.applyPolicy(resp.Policy)
	r.Log.Info("enrolled", "agent", resp.AgentID, "site", resp.Site, "role", resp.Role)
	return nil
}

// Cycle collects once and checks in: a full report when the content changed
// since the last acknowledged report (or the server asks for one), a
// heartbeat otherwise.
func (r *Runner) Cycle(ctx context.Context) error {
	rep := r.Collect(ctx)
	if err := r.ensureEnrolled(ctx, rep); err != nil {
		return err
	}
	if rep.Fingerprint == r.state.AckedFingerprint {
		resp, err := r.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindHeartbeat,
			Heartbeat: &agentapi.Heartbeat{Fingerprint: rep.Fingerprint, SentAt: r.Now().UTC()}})
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		r.applyPolicy(resp.Policy)
		if !resp.NeedFullReport {
			r.Log.Debug("heartbeat acknowledged", "fingerprint", rep.Fingerprint)
			return nil
		}
		r.Log.Info("server asks for a full report")
	}
	return r.send(ctx, rep)
}

func (r *Runner) send(ctx context.Context, rep *agentapi.Report) error {
	r.state.LastSeq++
	rep.Seq = r.state.LastSeq
	// The sequence number is spent before sending, so a crash between
	// sending and saving can never reuse it for different content.
	if err := r.state.Save(r.StateDir); err != nil {
		return err
	}
	resp, err := r.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindReport, Report: rep})
	if err != nil {
		return fmt.Errorf("sending report %d: %w", rep.Seq, err)
	}
	if !resp.Accepted {
		return fmt.Errorf("report %d not accepted by the server", rep.Seq)
	}
	r.state.AckedSeq, r.state.AckedFingerprint = rep.Seq, rep.Fingerprint
	r.applyPolicy(resp.Policy)
	if err := r.state.Save(r.StateDir); err != nil {
		return err
	}
	r.Log.Info("report acknowledged", "seq", rep.Seq, "fingerprint", rep.Fingerprint, "errors", len(rep.Errors))
	return nil
}

func (r *Runner) applyPolicy(p agentapi.Policy) {
	if p.CheckinIntervalSeconds > 0 {
		if d := time.Duration(p.CheckinIntervalSeconds) * time.Second; d != r.Interval {
			r.Log.Info("server sets the check-in interval", "interval", d)
			r.Interval = d
		}
	}
}

// Run repeats Cycle until ctx ends. A failed cycle is logged and retried at
// the next interval: a laptop at home is offline often, that is normal.
func (r *Runner) Run(ctx context.Context) error {
	for {
		if err := r.Cycle(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.Log.Warn("check-in failed; will retry", "err", err)
		}
		delay := NextDelay(r.Interval, r.Jitter, rand.Float64())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

// NextDelay is interval spread by ±jitter×interval; u is uniform in [0,1).
func NextDelay(interval time.Duration, jitter, u float64) time.Duration {
	return time.Duration(float64(interval) * (1 + jitter*(2*u-1)))
}
