// Package collect gathers the facts of a report. Each built-in collector is
// one small type behind one interface; the runner times each one and turns
// a failure into an error entry in the report, so one broken collector
// costs only its own facts.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Collector fills its part of a report.
type Collector interface {
	// Name identifies the collector in logs and error entries.
	Name() string
	// Collect adds its facts to r. It returns ErrNoData when there is
	// honestly nothing to report (no battery), not an error.
	Collect(ctx context.Context, r *agentapi.Report) error
}

// ErrNoData says a collector has nothing to report on this machine.
var ErrNoData = errors.New("no data on this machine")

// Timing is how one collector fared in a cycle.
type Timing struct {
	Name     string
	Duration time.Duration
	Err      error
}

// Run runs every collector in turn, bounding each by timeout, and records
// failures in r.Errors. It returns how each one fared.
func Run(ctx context.Context, collectors []Collector, r *agentapi.Report, timeout time.Duration, log *slog.Logger) []Timing {
	timings := make([]Timing, 0, len(collectors))
	for _, c := range collectors {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		err := collectOne(cctx, c, r)
		cancel()
		t := Timing{Name: c.Name(), Duration: time.Since(start), Err: err}
		timings = append(timings, t)
		switch {
		case err == nil, errors.Is(err, ErrNoData):
			log.Debug("collected", "collector", t.Name, "duration", t.Duration, "no_data", err != nil)
		default:
			log.Warn("collector failed", "collector", t.Name, "duration", t.Duration, "err", err)
			r.Errors = append(r.Errors, agentapi.FactError{Source: "collector " + t.Name, Message: err.Error()})
		}
	}
	return timings
}

// collectOne runs a collector, turning a panic into an error: a bug in one
// collector must not take the agent down.
func collectOne(ctx context.Context, c Collector, r *agentapi.Report) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return c.Collect(ctx, r)
}
