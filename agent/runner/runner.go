// Package runner is the agent's cycle: collect a report, decide between a
// full report and a heartbeat, send it, remember what the server
// acknowledged; and the loop that repeats it on an interval with jitter.
package runner

import (
	"context"
	"crypto/x509"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/bandwidth"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/collect"
	"github.com/parc-project/parc/agent/footprint"
	"github.com/parc-project/parc/agent/linkprobe"
	"github.com/parc-project/parc/agent/spool"
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
	// CAFile, when set, is the CA bundle trusted for the server instead of
	// the one pinned at enrollment.
	CAFile   string
	Interval time.Duration
	Jitter   float64
	// Plugins, if set, adds the plugins' facts after the built-in ones. It
	// bounds each plugin itself, so it runs outside CollectTimeout.
	Plugins interface {
		Collect(ctx context.Context, r *agentapi.Report)
	}
	// PluginsInterval is how often the plugins run; the cycles in between
	// report their last facts. 0 runs them at every cycle.
	PluginsInterval time.Duration
	// Spool keeps reports until the server acknowledged them.
	Spool *spool.Spool
	// Bandwidth shapes the bandwidth measurements; a zero Interval turns
	// them off.
	Bandwidth bandwidth.Config
	// Probe, if set, makes the agent a probe of its site's link when its
	// configuration or its role says so (linkprobe.Config.Active).
	Probe   *linkprobe.Config
	Version string
	Log     *slog.Logger
	Now     func() time.Time

	state state.State
	// pinned is the CA the client trusts; nil until pinned (or over http).
	pinned []*x509.Certificate
	// rotateDue is set when the server asked for a credential rotation.
	rotateDue bool
	// plugins holds the plugins' last facts.
	plugins *pluginFacts
}

// Collect runs every collector and returns the report with its fingerprint
// set (no sequence number: that is given only to a report that is sent),
// the last bandwidth measurement, and for a probe a link measurement taken
// now: what --print shows.
func (r *Runner) Collect(ctx context.Context) *agentapi.Report {
	rep := r.collect(ctx)
	rep.Bandwidth = r.state.Bandwidth
	if r.probing() {
		link := linkprobe.Measure(ctx, *r.Probe, r.serverAddr(), r.Now)
		r.addThroughput(&link)
		rep.Link = &link
	}
	rep.Fingerprint = rep.ComputeFingerprint()
	return rep
}

func (r *Runner) collect(ctx context.Context) *agentapi.Report {
	rep := &agentapi.Report{Schema: agentapi.SchemaVersion, CollectedAt: r.Now().UTC(), AgentVersion: r.Version}
	collect.Run(ctx, r.Collectors, rep, r.CollectTimeout, r.Log)
	r.collectPlugins(ctx, rep)
	return rep
}

// Produced is the sequence number of the newest report produced.
func (r *Runner) Produced() uint64 { return r.state.LastSeq }

// LoadState reads the agent's state from its state dir, and nothing else.
func (r *Runner) LoadState() error {
	st, err := state.Load(r.StateDir)
	if err != nil {
		return err
	}
	r.state = st
	return nil
}

// Load reads the agent's state and sets the client up with its trust and
// credential.
func (r *Runner) Load() error {
	if err := r.LoadState(); err != nil {
		return err
	}
	if r.Spool != nil {
		if newest := r.Spool.Stats().NewestSeq; newest > r.state.LastSeq {
			// The agent stopped after spooling a report and before noting
			// its number: the spool knows better.
			r.state.LastSeq, r.state.LastFingerprint = newest, ""
		}
	}
	st := r.state
	if err := r.loadTrust(); err != nil {
		return err
	}
	if st.Enrolled() {
		r.Client.SetCredential(st.Credential)
		if st.Server != "" && st.Server != r.Server {
			r.Log.Warn("enrolled with another server; keeping that credential", "enrolled_with", st.Server, "configured", r.Server)
		}
	}
	return nil
}

// Cycle collects once and checks in: the report goes to the spool when
// its content changed, the spool is delivered oldest first, and a heartbeat
// says "still here" when nothing is waiting.
func (r *Runner) Cycle(ctx context.Context) error {
	rep := r.collect(ctx)
	if err := r.ensureEnrolled(ctx, rep); err != nil {
		return err
	}
	if r.state.PendingCredential != "" {
		// A rotation interrupted before its confirmation was saved.
		if err := r.confirmPending(ctx); err != nil {
			r.Log.Warn("finishing a credential rotation", "err", err)
		}
	}
	r.measureBandwidth(ctx, rep)
	r.measureLink(ctx, rep)
	rep.Fingerprint = rep.ComputeFingerprint()
	err := r.checkin(ctx, rep)
	if client.IsUnauthorized(err) {
		return r.refused(ctx, rep, err)
	}
	if err == nil && r.rotateDue {
		if err := r.rotate(ctx); err != nil {
			r.Log.Warn("credential rotation failed; the current credential stays in use, retrying at the next check-in", "err", err)
		}
	}
	return err
}

// applyResponse takes in what a check-in answer says beyond the ack.
func (r *Runner) applyResponse(resp agentapi.CheckinResponse) {
	r.applyPolicy(resp.Policy)
	r.rotateDue = resp.RotateCredential
	if !resp.CredentialExpiresAt.IsZero() {
		r.state.CredentialExpiresAt = resp.CredentialExpiresAt
	}
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
		// Between cycles the agent only waits: give back what the cycle used.
		if err := footprint.Trim(); err != nil {
			r.Log.Debug("trimming memory", "err", err)
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
