// Package linkprobe measures a site's network link from an agent inside
// the site: round-trip time and loss to configured targets, by TCP connect
// and, where the system allows unprivileged ping, by ICMP echo. It runs on
// the agents configured as probes (a kiosk, a classroom PC that stays on),
// on its own schedule, inside the agent's cycle: no goroutine outlives a
// measurement. Download throughput is the bandwidth package's job; the
// runner copies its last figure into the link facts.
package linkprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Config makes an agent a probe and shapes its measurements.
type Config struct {
	// Enabled makes this agent a probe whatever its role.
	Enabled bool
	// Roles makes the agent a probe when the role its enroll token gave
	// it is one of these (kiosk, classroom): one configuration file for a
	// whole fleet, and only the machines that stay on probe.
	Roles []string
	// Interval between measurements.
	Interval time.Duration
	// Targets are "host:port" (TCP connect) or "host" (ICMP echo). Empty:
	// the parc-server's own address, by TCP.
	Targets []string
	// Attempts per target, and the time limit of each.
	Attempts int
	Timeout  time.Duration
	// ThroughputInterval is how often a probe measures its download
	// throughput to parc-server (through the bandwidth measurement); 0
	// keeps the agent's bandwidth interval.
	ThroughputInterval time.Duration
}

// Defaults: a measurement every five minutes (the check-in interval), 4
// attempts of at most 2 s per target, throughput every hour.
var Defaults = Config{Interval: 5 * time.Minute, Attempts: 4, Timeout: 2 * time.Second, ThroughputInterval: time.Hour}

// MaxTargets bounds the targets of one probe: a probe watches its link, it
// does not scan a network.
const MaxTargets = 16

// Active reports whether an agent of role is a probe.
func (c Config) Active(role string) bool {
	return c.Enabled || (role != "" && slices.Contains(c.Roles, role))
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < time.Minute {
		errs = append(errs, fmt.Errorf("probe.interval %s: at least 1m", c.Interval))
	}
	if c.Attempts < 1 || c.Attempts > 20 {
		errs = append(errs, fmt.Errorf("probe.attempts %d: want 1 to 20", c.Attempts))
	}
	if c.Timeout < 100*time.Millisecond || c.Timeout > 30*time.Second {
		errs = append(errs, fmt.Errorf("probe.timeout %s: want 100ms to 30s", c.Timeout))
	}
	if c.ThroughputInterval != 0 && c.ThroughputInterval < 10*time.Minute {
		errs = append(errs, fmt.Errorf("probe.throughput_interval %s: 0 (the bandwidth interval) or at least 10m, to be polite to the school's link", c.ThroughputInterval))
	}
	if len(c.Targets) > MaxTargets {
		errs = append(errs, fmt.Errorf("probe.targets: %d, at most %d", len(c.Targets), MaxTargets))
	}
	for _, t := range c.Targets {
		if _, _, err := ParseTarget(t); err != nil {
			errs = append(errs, fmt.Errorf("probe.targets: %w", err))
		}
	}
	return errors.Join(errs...)
}

// ParseTarget tells a TCP target ("host:port", "[v6]:port") from an ICMP
// one ("host", "v6").
func ParseTarget(t string) (method, addr string, err error) {
	if t == "" {
		return "", "", errors.New("empty target")
	}
	host, port, splitErr := net.SplitHostPort(t)
	if splitErr != nil {
		if net.ParseIP(t) == nil && !validHostname(t) {
			return "", "", fmt.Errorf("target %q: want host:port (TCP) or a host (ICMP)", t)
		}
		return agentapi.ProbeICMP, t, nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
		return "", "", fmt.Errorf("target %q: want host:port with a port from 1 to 65535", t)
	}
	return agentapi.ProbeTCP, t, nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// Due reports whether to measure now: never measured, or Interval passed.
func Due(last *agentapi.LinkFacts, interval time.Duration, now time.Time) bool {
	return last == nil || last.MeasuredAt.IsZero() || now.Sub(last.MeasuredAt) >= interval
}

// Measure probes every target in turn (fallback is the TCP target used
// when none is configured, the parc-server's host:port) and returns the
// facts. A target that cannot be measured carries its error; the others
// are measured all the same.
func Measure(ctx context.Context, cfg Config, fallback string, now func() time.Time) agentapi.LinkFacts {
	targets := cfg.Targets
	if len(targets) == 0 && fallback != "" {
		targets = []string{fallback}
	}
	facts := agentapi.LinkFacts{MeasuredAt: now().UTC(), Targets: make([]agentapi.LinkTarget, 0, len(targets))}
	var pinger *icmpPinger
	var icmpErr error
	for _, t := range targets {
		method, addr, err := ParseTarget(t)
		if err != nil {
			facts.Targets = append(facts.Targets, agentapi.LinkTarget{Target: t, Method: agentapi.ProbeTCP, Error: err.Error()})
			continue
		}
		var res agentapi.LinkTarget
		switch method {
		case agentapi.ProbeTCP:
			res = probeTCP(ctx, addr, cfg.Attempts, cfg.Timeout, now)
		case agentapi.ProbeICMP:
			if pinger == nil && icmpErr == nil {
				pinger, icmpErr = openPinger()
				if icmpErr != nil {
					facts.Note = "ICMP echo not permitted for this agent (Linux: net.ipv4.ping_group_range must include its group); TCP targets only: " + icmpErr.Error()
				}
			}
			if icmpErr != nil {
				res = agentapi.LinkTarget{Target: addr, Method: agentapi.ProbeICMP, Error: "ICMP echo not permitted"}
				break
			}
			res = pinger.probe(ctx, addr, cfg.Attempts, cfg.Timeout, now)
		}
		facts.Targets = append(facts.Targets, res)
	}
	if pinger != nil {
		pinger.Close()
	}
	return facts
}

// summarize turns attempts and answer times into a target's figures.
func summarize(target, method string, sent int, rtts []time.Duration, lastErr error) agentapi.LinkTarget {
	res := agentapi.LinkTarget{Target: target, Method: method, Sent: sent, Received: len(rtts)}
	if sent > 0 {
		res.Loss = float64(sent-len(rtts)) / float64(sent)
	}
	if len(rtts) > 0 {
		slices.Sort(rtts)
		res.RTTMs = float64(rtts[len(rtts)/2].Microseconds()) / 1000
	}
	if lastErr != nil {
		res.Error = lastErr.Error()
	}
	return res
}
