package runner

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/linkprobe"
)

// probing reports whether this agent is a probe of its site's link: its
// configuration says so, or the role its enroll token gave it is a probe
// role.
func (r *Runner) probing() bool {
	return r.Probe != nil && r.Probe.Active(r.state.Role)
}

// measureLink measures the site's link when due and puts the last link
// facts in the report. It runs inside the cycle and leaves nothing running.
func (r *Runner) measureLink(ctx context.Context, rep *agentapi.Report) {
	if !r.probing() {
		return
	}
	if linkprobe.Due(r.state.Link, r.Probe.Interval, r.Now()) {
		link := linkprobe.Measure(ctx, *r.Probe, r.serverAddr(), r.Now)
		r.addThroughput(&link)
		for _, t := range link.Targets {
			r.Log.Debug("link probed", "target", t.Target, "method", t.Method, "rtt_ms", fmt.Sprintf("%.1f", t.RTTMs), "loss", t.Loss, "err", t.Error)
		}
		if link.Note != "" {
			r.Log.Info("link probe", "note", link.Note)
		}
		r.state.Link = &link
		if err := r.state.Save(r.StateDir); err != nil {
			r.Log.Warn("keeping the link measurement", "err", err)
		}
	} else if r.state.Link != nil {
		// The throughput may have been measured since the link was.
		r.addThroughput(r.state.Link)
	}
	rep.Link = r.state.Link
}

// addThroughput copies the last successful bandwidth measurement, the
// download throughput to parc-server, into the link facts.
func (r *Runner) addThroughput(link *agentapi.LinkFacts) {
	b := r.state.Bandwidth
	if b == nil || b.MeasuredAt.IsZero() || b.DownloadMbps <= 0 {
		return
	}
	at := b.MeasuredAt
	link.DownloadMbps, link.DownloadAt = b.DownloadMbps, &at
}

// serverAddr is the parc-server's host:port, the probe's target when none
// is configured.
func (r *Runner) serverAddr() string {
	u, err := url.Parse(r.Server)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
