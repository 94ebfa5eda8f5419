package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// ErrRejected marks a send error after which the report must never be sent
// again: the server refused it for good (it answered that the report is
// malformed). A SendFunc wraps it; Drain then counts the report as lost and
// goes on, so one bad report cannot block weeks of good ones behind it.
// Errors that may pass (network, 5xx, 401 until re-enrolment) must not wrap
// it.
var ErrRejected = errors.New("report refused for good")

// SendFunc delivers one report and returns nil only once the server
// acknowledged it durably (CheckinResponse.Accepted).
type SendFunc func(ctx context.Context, r *agentapi.Report) error

// WaitFunc waits for d, or less if ctx is done (then it returns ctx.Err()).
// Tests inject one that records d and returns at once; the agent may
// inject one that also returns early when its network comes back.
type WaitFunc func(ctx context.Context, d time.Duration) error

// Drain sends the spooled reports oldest-first until the spool is empty
// (nil), a send fails (that error), or ctx is done. It returns the number
// of reports delivered.
func (s *Spool) Drain(ctx context.Context, send SendFunc) (int, error) {
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		r, err := s.Oldest()
		if errors.Is(err, ErrEmpty) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if err := send(ctx, r); err != nil {
			if errors.Is(err, ErrRejected) {
				s.discard(r.Seq, err)
				continue
			}
			return n, fmt.Errorf("delivering report %d: %w", r.Seq, err)
		}
		if err := s.Ack(r.Seq); err != nil {
			return n, err
		}
		n++
	}
}

// Deliver drains the spool, retrying after b's delays until the spool is
// empty or ctx is done, and returns the number of reports delivered. A nil
// b uses the default schedule; a nil wait sleeps on a timer. The agent runs
// it in its own goroutine: offline, it waits for as long as it takes, while
// Put goes on spooling.
func (s *Spool) Deliver(ctx context.Context, send SendFunc, b *Backoff, wait WaitFunc) (int, error) {
	if b == nil {
		b = &Backoff{}
	}
	if wait == nil {
		wait = sleep
	}
	total := 0
	for {
		n, err := s.Drain(ctx, send)
		total += n
		if err == nil {
			b.Reset()
			return total, nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return total, err
		}
		if n > 0 {
			b.Reset() // the server took some: it is back, start afresh
		}
		d := b.Next()
		// An offline loaner fails for weeks: say it once, then quietly.
		level := slog.LevelDebug
		if b.Attempt() == 1 {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "report delivery failed, will retry",
			"err", err, "retry_in", d, "attempt", b.Attempt(), "spooled", s.Len())
		if err := wait(ctx, d); err != nil {
			return total, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
