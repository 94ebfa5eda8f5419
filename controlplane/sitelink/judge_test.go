package sitelink

import (
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/adminapi"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// site returns n agents checking in every 5 minutes until now, each at its
// own offset, as a real site's agents do.
func site(n int, now time.Time) []Agent {
	out := make([]Agent, n)
	for i := range out {
		out[i].LastSeen = now.Add(-time.Duration(i*29) * time.Second)
	}
	return out
}

// stop makes agents idx stop checking in: last heard at the given times.
func stop(agents []Agent, last ...time.Time) []Agent {
	for i, t := range last {
		agents[i].LastSeen = t
	}
	return agents
}

func probe(a Agent, at time.Time, loss, rtt, mbps float64) Agent {
	recv := 4
	if loss > 0 {
		recv = int(4 * (1 - loss))
	}
	a.Link = &agentapi.LinkFacts{MeasuredAt: at, DownloadMbps: mbps, Targets: []agentapi.LinkTarget{
		{Target: "parc:443", Method: agentapi.ProbeTCP, Sent: 4, Received: recv, Loss: loss, RTTMs: rtt},
	}}
	a.LinkAt = at
	return a
}

func TestJudge(t *testing.T) {
	now := t0.Add(20 * time.Minute)
	cut := t0.Add(5 * time.Minute)               // the link went down at 10:05
	within := func(offsets ...int) []time.Time { // seconds before the cut
		out := make([]time.Time, len(offsets))
		for i, o := range offsets {
			out[i] = cut.Add(-time.Duration(o) * time.Second)
		}
		return out
	}
	tests := []struct {
		name       string
		agents     []Agent
		state      string
		silent     int
		agentCount int
		since      time.Time
	}{
		{"all reporting", site(10, now), adminapi.LinkUp, 0, 10, time.Time{}},
		{"7 of 10 stop within 3 minutes", stop(site(10, now), within(0, 20, 45, 60, 100, 150, 180)...),
			adminapi.LinkDown, 7, 10, cut},
		{"all 10 stop within 5 minutes", stop(site(10, now), within(0, 30, 60, 90, 120, 150, 180, 210, 240, 270)...),
			adminapi.LinkDown, 10, 10, cut},
		{"2 of 10 stop", stop(site(10, now), within(0, 60)...), adminapi.LinkUp, 0, 10, time.Time{}},
		{"7 stop, spread over hours: stale, not dark", stop(site(10, now),
			now.Add(-1*time.Hour), now.Add(-2*time.Hour), now.Add(-3*time.Hour), now.Add(-4*time.Hour),
			now.Add(-5*time.Hour), now.Add(-6*time.Hour), now.Add(-7*time.Hour)), adminapi.LinkUp, 0, 5, time.Time{}},
		{"5 of 10 stop together: under 60%", stop(site(10, now), within(0, 30, 60, 90, 120)...), adminapi.LinkUp, 0, 10, time.Time{}},
		{"6 of 10 stop together: 60%", stop(site(10, now), within(0, 30, 60, 90, 120, 150)...), adminapi.LinkDown, 6, 10, cut},
		{"dark for two days: still down", stop(site(4, now.Add(-48*time.Hour)), within(0, 10, 20, 30)...), adminapi.LinkDown, 4, 4, cut},
		{"agents gone for weeks do not dilute", append(stop(site(4, now), within(0, 10, 20, 30)...),
			Agent{LastSeen: now.Add(-20 * 24 * time.Hour)}, Agent{LastSeen: now.Add(-9 * 24 * time.Hour)},
			Agent{LastSeen: now.Add(-3 * 24 * time.Hour)}, Agent{LastSeen: now.Add(-2 * time.Hour)}),
			adminapi.LinkDown, 4, 4, cut},
		{"two agents, both silent: too few to say", stop(site(2, now), within(0, 10)...), adminapi.LinkUnknown, 0, 2, time.Time{}},
		{"never seen agents only", []Agent{{}, {}}, adminapi.LinkUnknown, 0, 0, time.Time{}},
		{"a probe still reports: units switched off, link up",
			append(stop(site(9, now), within(0, 20, 45, 60, 100, 150, 180, 200, 220)...), probe(Agent{LastSeen: now}, now, 0, 12, 95)),
			adminapi.LinkUp, 0, 10, time.Time{}},
		{"the probe went silent with the others",
			append(stop(site(9, now), within(0, 20, 45, 60, 100, 150, 180, 200, 220)...), probe(Agent{LastSeen: cut}, cut, 0, 12, 95)),
			adminapi.LinkDown, 10, 10, cut},
		{"probe measures loss", append(site(5, now), probe(Agent{LastSeen: now}, now, 0.5, 40, 10)), adminapi.LinkDegraded, 0, 6, time.Time{}},
		{"probe measures long round trips", append(site(5, now), probe(Agent{LastSeen: now}, now, 0, 450, 10)), adminapi.LinkDegraded, 0, 6, time.Time{}},
		{"a probe's old figures do not count", append(site(5, now), probe(Agent{LastSeen: now}, now.Add(-time.Hour), 0.5, 40, 10)),
			adminapi.LinkUp, 0, 6, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge("ecole-a", tt.agents, Defaults, now)
			if got.State != tt.state || got.Silent != tt.silent || got.Agents != tt.agentCount || !got.Since.Equal(tt.since) {
				t.Errorf("state %s silent %d agents %d since %s (%s); want %s, %d, %d, %s",
					got.State, got.Silent, got.Agents, got.Since.Format(time.TimeOnly), got.Reason, tt.state, tt.silent, tt.agentCount, tt.since.Format(time.TimeOnly))
			}
			if got.Site != "ecole-a" {
				t.Errorf("site %q", got.Site)
			}
			if got.State == adminapi.LinkDown && (got.SilentFrom == nil || got.SilentFrom.After(got.Since)) {
				t.Errorf("silent from %v, since %v", got.SilentFrom, got.Since)
			}
		})
	}
}

func TestJudgeAggregatesProbes(t *testing.T) {
	now := t0
	agents := []Agent{
		probe(Agent{LastSeen: now}, now, 0, 10, 90),
		probe(Agent{LastSeen: now}, now, 0.25, 30, 50),
		probe(Agent{LastSeen: now}, now, 0, 20, 0), // no throughput measured
		{LastSeen: now},
	}
	// A probe with one target refused and one answering.
	agents[0].Link.Targets = append(agents[0].Link.Targets, agentapi.LinkTarget{Target: "gw", Method: agentapi.ProbeICMP})
	got := Judge("s", agents, Defaults, now)
	if got.ProbesReporting != 3 || got.RTTMs != 20 || got.Loss != 0 || got.DownloadMbps != 70 || got.State != adminapi.LinkUp {
		t.Errorf("%+v", got)
	}
}
