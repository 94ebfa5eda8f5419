package linkprobe

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, method string
		bad        bool
	}{
		{"parc.example.org:443", agentapi.ProbeTCP, false},
		{"10.0.0.1:22", agentapi.ProbeTCP, false},
		{"[2001:db8::1]:443", agentapi.ProbeTCP, false},
		{"10.0.0.1", agentapi.ProbeICMP, false},
		{"gw.ecole-a.local", agentapi.ProbeICMP, false},
		{"2001:db8::1", agentapi.ProbeICMP, false},
		{"", "", true},
		{"host:0", "", true},
		{"host:99999", "", true},
		{"host:https", "", true},
		{":443", "", true},
		{"bad host", "", true},
	}
	for _, tt := range tests {
		method, _, err := ParseTarget(tt.in)
		if (err != nil) != tt.bad || method != tt.method {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q, error %v", tt.in, method, err, tt.method, tt.bad)
		}
	}
}

func TestConfig(t *testing.T) {
	c := Defaults
	c.Roles = []string{"kiosk"}
	if c.Active("loaner") || !c.Active("kiosk") || c.Active("") {
		t.Error("a probe by role should be one only with that role")
	}
	c.Enabled = true
	if !c.Active("loaner") {
		t.Error("an enabled probe is one whatever its role")
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	c.Interval, c.Attempts, c.Targets = time.Second, 0, []string{"x:0"}
	err := c.Validate()
	for _, want := range []string{"probe.interval", "probe.attempts", "probe.targets"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		last *agentapi.LinkFacts
		want bool
	}{
		{nil, true},
		{&agentapi.LinkFacts{}, true},
		{&agentapi.LinkFacts{MeasuredAt: now.Add(-4 * time.Minute)}, false},
		{&agentapi.LinkFacts{MeasuredAt: now.Add(-5 * time.Minute)}, true},
	}
	for i, tt := range tests {
		if got := Due(tt.last, 5*time.Minute, now); got != tt.want {
			t.Errorf("%d: Due = %v, want %v", i, got, tt.want)
		}
	}
}

// TestTCPProbeRealNetwork connects to a real listener on this machine,
// and to a port nobody listens on.
func TestTCPProbeRealNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close() // nobody listens there now: connections are refused

	cfg := Config{Attempts: 3, Timeout: 2 * time.Second, Targets: []string{ln.Addr().String(), closedAddr}}
	facts := Measure(context.Background(), cfg, "", time.Now)
	ln.Close()
	<-accepted
	if len(facts.Targets) != 2 {
		t.Fatalf("targets: %+v", facts.Targets)
	}
	open, shut := facts.Targets[0], facts.Targets[1]
	if open.Method != agentapi.ProbeTCP || open.Sent != 3 || open.Received != 3 || open.Loss != 0 || open.RTTMs <= 0 || open.Error != "" {
		t.Errorf("open port: %+v", open)
	}
	if shut.Sent != 3 || shut.Received != 0 || shut.Loss != 1.0 || shut.RTTMs != 0 || !strings.Contains(shut.Error, "refused") {
		t.Errorf("closed port: %+v", shut)
	}
	if facts.MeasuredAt.IsZero() {
		t.Error("no measurement time")
	}
	r := agentapi.Report{Schema: 1, Seq: 1, CollectedAt: time.Now(), Fingerprint: "f", Link: &facts}
	if err := r.Validate(); err != nil {
		t.Errorf("the probe's own facts do not validate: %v", err)
	}
}

// TestTCPProbeFallback: with no target configured, the probe measures the
// server's address.
func TestTCPProbeFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	facts := Measure(context.Background(), Config{Attempts: 1, Timeout: time.Second}, ln.Addr().String(), time.Now)
	if len(facts.Targets) != 1 || facts.Targets[0].Target != ln.Addr().String() || facts.Targets[0].Received != 1 {
		t.Errorf("fallback target: %+v", facts.Targets)
	}
}

// TestICMPProbeLoopback pings 127.0.0.1 when this system allows
// unprivileged ping; otherwise it checks the probe says so and carries on
// with its TCP targets.
func TestICMPProbeLoopback(t *testing.T) {
	cfg := Config{Attempts: 2, Timeout: 2 * time.Second, Targets: []string{"127.0.0.1"}}
	p, err := openPinger()
	if err != nil {
		facts := Measure(context.Background(), cfg, "", time.Now)
		if !strings.Contains(facts.Note, "ping_group_range") || facts.Targets[0].Error == "" || facts.Targets[0].Sent != 0 {
			t.Errorf("ICMP not permitted, but the facts do not say so: %+v", facts)
		}
		t.Skipf("unprivileged ICMP echo not permitted here (%v; see /proc/sys/net/ipv4/ping_group_range): checked the TCP-only fallback note", err)
	}
	p.Close()
	facts := Measure(context.Background(), cfg, "", time.Now)
	got := facts.Targets[0]
	if facts.Note != "" || got.Method != agentapi.ProbeICMP || got.Sent != 2 || got.Received != 2 || got.Loss != 0 || got.RTTMs <= 0 {
		t.Errorf("ping 127.0.0.1: %+v, note %q", got, facts.Note)
	}
}
