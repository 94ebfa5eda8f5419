// Package retention forgets what parc must not keep longer than the
// retention period (by default the domain's one year): it runs sweepers,
// each deleting or anonymising one kind of data older than a cutoff.
//
// parc-server runs the job on one replica at a time: the elected
// reconciler starts Job.Run with its leadership context
// (reconcile.Reconciler.OnLeadership), Run stops as soon as that context
// ends, and the next leader starts it again. Each sweeper is idempotent
// anyway (deleting what is gone, anonymising what is anonymous, changes
// nothing), so the overlap of two terms, or a run cut short, does no harm.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Sweeper deletes or anonymises one kind of data older than a cutoff, and
// says how many records it touched. It must be idempotent.
type Sweeper interface {
	Name() string
	Sweep(ctx context.Context, cutoff time.Time) (int64, error)
}

// Func makes a Sweeper of a function, such as (*audit.Log).DeleteBefore.
func Func(name string, fn func(ctx context.Context, cutoff time.Time) (int64, error)) Sweeper {
	return sweeperFunc{name, fn}
}

type sweeperFunc struct {
	name string
	fn   func(context.Context, time.Time) (int64, error)
}

func (s sweeperFunc) Name() string                                          { return s.name }
func (s sweeperFunc) Sweep(ctx context.Context, c time.Time) (int64, error) { return s.fn(ctx, c) }

// Job runs every sweeper with cutoff Now()-Period, every Interval.
type Job struct {
	Period   time.Duration
	Interval time.Duration
	// Now is the clock; tests move it.
	Now      func() time.Time
	Sweepers []Sweeper
	Log      *slog.Logger
}

// RunOnce runs every sweeper once. A failing sweeper does not stop the
// others; the errors are returned together.
func (j *Job) RunOnce(ctx context.Context) error {
	cutoff := j.Now().Add(-j.Period)
	var errs []error
	for _, s := range j.Sweepers {
		n, err := s.Sweep(ctx, cutoff)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention of %s: %w", s.Name(), err))
			continue
		}
		if n > 0 {
			j.Log.Info("retention: older than the retention period, gone", "what", s.Name(), "count", n, "cutoff", cutoff.UTC().Format(time.RFC3339))
		}
	}
	return errors.Join(errs...)
}

// firstRunDelay is how long after start the first run waits, spread over
// up to twice as long so replicas restarted together do not sweep at once.
const firstRunDelay = time.Minute

// Run runs the job shortly after start, then every Interval, until ctx
// ends. Give it the leadership context when it runs under an election.
func (j *Job) Run(ctx context.Context) {
	delay := firstRunDelay + rand.N(firstRunDelay)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.Log.Error("retention run failed; trying again at the next run", "err", err)
		}
		delay = j.Interval
	}
}
