// Package sitelink watches each site's network link from inside the site:
// it aggregates the measurements of the site's probe agents (round trips,
// loss, download throughput) and notices when the site goes dark — most of
// its agents falling silent within the same few minutes — so that parc
// says "the site's link is down" rather than "dozens of units went
// missing". The reconciler asks it (SiteDark) to mark those units.
//
// Where it runs: the Monitor computes on the elected reconciler only
// (Reconciler.OnLeadership), from its own caches of last-seen times and of
// the probes' facts, and stores each site's state at sitelinks/<site>;
// every replica mirrors those records (Links) for the API, the web UI,
// metrics and the reconciler. Only the leader needs the last-seen times of
// every agent in memory. The state is a pure function of what etcd holds
// and the clock (Judge), so two leaders overlapping for a moment after an
// election write the same records; the writes need no fence.
package sitelink

import (
	"slices"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/adminapi"
)

// Thresholds decide a site's state. Their defaults suit agents checking in
// every 5 minutes.
type Thresholds struct {
	// SilentAfter: an agent not heard for this long has missed a
	// check-in. Two check-in intervals: one late check-in is no silence.
	SilentAfter time.Duration
	// Window: agents last heard within this span went silent "together".
	// A cut link silences every agent within one check-in interval.
	Window time.Duration
	// ActiveWithin: the agents that count at a site are those heard within
	// this long before the silence; one gone for days does not dilute the
	// ratio, and does not count as part of a sudden silence.
	ActiveWithin time.Duration
	// MinAgents and Ratio: the site is dark when at least MinAgents, and at
	// least Ratio of the agents that count, went silent together. Two
	// laptops closed at once are no outage.
	MinAgents int
	Ratio     float64
	// ProbeFresh: a probe's figures count while its last report is this
	// recent (server clock).
	ProbeFresh time.Duration
	// DegradedLoss and DegradedRTTMs: the median of the probes' loss and
	// round-trip time above which the link is degraded.
	DegradedLoss  float64
	DegradedRTTMs float64
}

// Defaults for agents checking in every 5 minutes.
var Defaults = Thresholds{
	SilentAfter:   10 * time.Minute,
	Window:        5 * time.Minute,
	ActiveWithin:  time.Hour,
	MinAgents:     3,
	Ratio:         0.6,
	ProbeFresh:    20 * time.Minute,
	DegradedLoss:  0.2,
	DegradedRTTMs: 300,
}

// Agent is what Judge needs of one agent of a site: when the server last
// heard it, and, for a probe, its last link facts with their receipt time.
type Agent struct {
	LastSeen time.Time
	Link     *agentapi.LinkFacts
	// LinkAt is when the server received the report holding Link.
	LinkAt time.Time
}

// Judge returns the state of site from its agents at now. Since is left
// for the caller, who knows the previous state (except for a dark site,
// where it is the last time the silent agents were heard).
func Judge(site string, agents []Agent, th Thresholds, now time.Time) adminapi.SiteLink {
	out := adminapi.SiteLink{Site: site}
	var silent []time.Time
	reporting := 0
	for _, a := range agents {
		switch {
		case a.LastSeen.IsZero():
		case now.Sub(a.LastSeen) > th.SilentAfter:
			silent = append(silent, a.LastSeen)
		default:
			reporting++
		}
	}
	probes := freshProbes(agents, th, now)
	out.ProbesReporting = len(probes)
	if len(probes) > 0 {
		out.RTTMs, out.Loss, out.DownloadMbps = aggregate(probes)
	}

	from, to, together := silentGroup(silent, th.Window)
	counted := reporting
	for _, t := range silent {
		if !t.Before(from.Add(-th.ActiveWithin)) {
			counted++
		}
	}
	out.Agents = counted
	switch {
	case together >= th.MinAgents && float64(together) >= th.Ratio*float64(counted) && len(probes) == 0:
		// No probe reports: nothing contradicts the silence.
		out.State, out.Reason, out.Silent, out.Since = adminapi.LinkDown, "agents_silent", together, to
		out.SilentFrom = &from
	case len(probes) > 0 && out.Loss >= th.DegradedLoss:
		out.State, out.Reason = adminapi.LinkDegraded, "probe_loss"
	case len(probes) > 0 && out.RTTMs >= th.DegradedRTTMs:
		out.State, out.Reason = adminapi.LinkDegraded, "probe_rtt"
	case len(probes) > 0:
		// Units may all be switched off (evening, holidays): a probe that
		// still reports says the link carries.
		out.State, out.Reason = adminapi.LinkUp, "probes_reporting"
	case reporting > 0:
		out.State, out.Reason = adminapi.LinkUp, "agents_reporting"
	default:
		// Too few agents went silent to call it an outage, and none
		// reports: nothing to judge from.
		out.State, out.Reason = adminapi.LinkUnknown, "no_agents"
	}
	return out
}

// silentGroup finds the most agents last heard within one window of each
// other (the latest such group on a tie: the most recent outage) and
// returns its first and last check-in and its size.
func silentGroup(times []time.Time, window time.Duration) (from, to time.Time, n int) {
	if len(times) == 0 {
		return
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	start := 0
	for end := range times {
		for times[end].Sub(times[start]) > window {
			start++
		}
		if size := end - start + 1; size >= n {
			from, to, n = times[start], times[end], size
		}
	}
	return
}

// freshProbes returns the link facts of the agents reporting as probes
// now: their facts received within ProbeFresh and the agent not silent.
func freshProbes(agents []Agent, th Thresholds, now time.Time) []*agentapi.LinkFacts {
	var out []*agentapi.LinkFacts
	for _, a := range agents {
		if a.Link != nil && now.Sub(a.LinkAt) <= th.ProbeFresh && now.Sub(a.LastSeen) <= th.SilentAfter {
			out = append(out, a.Link)
		}
	}
	return out
}

// aggregate returns the median over probes of each probe's round trip
// (median of its targets that answered), loss (mean over its targets
// measured) and download throughput (probes that measured one).
func aggregate(probes []*agentapi.LinkFacts) (rttMs, loss, mbps float64) {
	var rtts, losses, rates []float64
	for _, p := range probes {
		var prtt []float64
		var sum float64
		measured := 0
		for _, t := range p.Targets {
			if t.Sent == 0 {
				continue
			}
			measured++
			sum += t.Loss
			if t.Received > 0 {
				prtt = append(prtt, t.RTTMs)
			}
		}
		if measured > 0 {
			losses = append(losses, sum/float64(measured))
		}
		if len(prtt) > 0 {
			rtts = append(rtts, median(prtt))
		}
		if p.DownloadMbps > 0 {
			rates = append(rates, p.DownloadMbps)
		}
	}
	return median(rtts), median(losses), median(rates)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
