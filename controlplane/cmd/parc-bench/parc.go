package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/ctl"
)

// loadResult is what one parc load phase achieved.
type loadResult struct {
	Phase            string           `json:"phase"`
	Agents           int              `json:"agents"`
	Concurrency      int              `json:"concurrency"`
	IntervalMillis   float64          `json:"interval_ms"` // 0: back to back
	TargetPerSec     float64          `json:"target_per_sec,omitempty"`
	CheckInsPerSec   float64          `json:"checkins_per_sec"`
	FullPerSec       float64          `json:"full_reports_per_sec"`
	HeartbeatsPerSec float64          `json:"heartbeats_per_sec"`
	P50Millis        float64          `json:"p50_ms"`
	P99Millis        float64          `json:"p99_ms"`
	MaxMillis        float64          `json:"max_ms"`
	Errors           map[string]int64 `json:"errors,omitempty"`
	Seconds          float64          `json:"seconds"`
	// CPU time per check-in of the server (parc and its embedded etcd)
	// and of the simulator: what the rates would be on cores of their own.
	ServerCPUMicros float64 `json:"server_cpu_us_per_checkin"`
	SimCPUMicros    float64 `json:"sim_cpu_us_per_checkin"`
}

func newLoadResult(phase string, cfg sim.LoadConfig, agents int, target float64, r *sim.Result) loadResult {
	return loadResult{Phase: phase, Agents: agents, Concurrency: cfg.Concurrency, IntervalMillis: ms(cfg.Interval),
		TargetPerSec: target, CheckInsPerSec: r.Rate(r.CheckIns), FullPerSec: r.Rate(r.FullReports),
		HeartbeatsPerSec: r.Rate(r.Heartbeats), P50Millis: ms(r.P50), P99Millis: ms(r.P99), MaxMillis: ms(r.Max),
		Errors: r.Errors, Seconds: r.Elapsed.Seconds()}
}

func (l loadResult) String() string {
	s := fmt.Sprintf("%-28s %8.0f check-ins/s (%6.0f full, %6.0f heartbeats)  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms",
		l.Phase, l.CheckInsPerSec, l.FullPerSec, l.HeartbeatsPerSec, l.P50Millis, l.P99Millis, l.MaxMillis)
	s += fmt.Sprintf("  cpu/check-in: server %.0f µs, sim %.0f µs", l.ServerCPUMicros, l.SimCPUMicros)
	if l.TargetPerSec > 0 {
		s += fmt.Sprintf("  (paced at %.0f/s)", l.TargetPerSec)
	}
	if len(l.Errors) > 0 {
		s += fmt.Sprintf("  errors %v", l.Errors)
	}
	return s
}

// adminClient is an admin API client of the child server.
func adminClient(c *child) (*ctl.Client, error) {
	hc, err := c.httpClient(30 * time.Minute)
	if err != nil {
		return nil, err
	}
	token, err := c.adminToken()
	if err != nil {
		return nil, err
	}
	return ctl.NewClient(c.URL, token, hc)
}

func createEnrollToken(ctx context.Context, admin *ctl.Client, uses int) (string, error) {
	var tok adminapi.EnrollToken
	req := adminapi.EnrollTokenRequest{Site: "bench", Role: "loaner", TTL: "24h", MaxUses: uses}
	if err := admin.Do(ctx, http.MethodPost, adminapi.PathEnrollTokens, req, &tok); err != nil {
		return "", fmt.Errorf("creating an enroll token: %w", err)
	}
	return tok.Token, nil
}

// enrollAll enrols n agents against the child server and has each send its
// first full report, so that what follows measures steady state.
func enrollAll(ctx context.Context, c *child, n, concurrency int, log *slog.Logger) ([]*sim.Agent, time.Duration, error) {
	admin, err := adminClient(c)
	if err != nil {
		return nil, 0, err
	}
	token, err := createEnrollToken(ctx, admin, n)
	if err != nil {
		return nil, 0, err
	}
	hc, err := c.httpClient(30 * time.Second)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	var last time.Time
	agents, err := sim.EnrollAgents(ctx, sim.LoadConfig{ServerURL: c.URL, HTTPClient: hc, EnrollToken: token,
		Agents: n, Concurrency: concurrency, Progress: func(p sim.Progress) {
			if time.Since(last) > 10*time.Second {
				last = time.Now()
				log.Info("enrolling", "enrolled", p.Enrolled, "of", n, "per_sec", int(float64(p.Enrolled)/p.Elapsed.Seconds()))
			}
		}}, log)
	if err != nil {
		return nil, 0, err
	}
	took := time.Since(start)
	if err := firstReports(ctx, agents, concurrency); err != nil {
		return nil, 0, err
	}
	return agents, took, nil
}

// firstReports has every agent send one full report, retrying failures.
func firstReports(ctx context.Context, agents []*sim.Agent, concurrency int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(agents) || ctx.Err() != nil {
					return
				}
				var err error
				for attempt := range 10 {
					_, err = agents[i].Send(ctx)
					if err == nil {
						break
					}
					agents[i].Seq-- // resend the same number, as the spool does
					time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
				}
				if err != nil {
					mu.Lock()
					firstErr = fmt.Errorf("first report of agent %s: %w", agents[i].ID, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}
