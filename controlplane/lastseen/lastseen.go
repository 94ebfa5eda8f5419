// Package lastseen records when each agent last checked in without making
// every heartbeat an etcd write: times are coalesced in memory and flushed
// in batched transactions every few seconds. A crash loses at most one
// flush interval of "last seen", never a report (reports are written before
// they are acknowledged, elsewhere).
package lastseen

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"github.com/parc-project/parc/controlplane/store"
)

// flushParallelism is how many batch transactions a flush runs at once.
// etcd commits concurrent transactions in one fsync, so a few in flight
// multiply the flush rate; more than a handful only queue.
const flushParallelism = 8

// Coalescer holds last-seen times not yet written to etcd.
type Coalescer struct {
	store    *store.Store
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	pending map[string]int64 // agent id → unix seconds (server clock)
	flushMu sync.Mutex       // one flush at a time
}

// New returns a coalescer flushing every interval once Run is called.
func New(s *store.Store, interval time.Duration, log *slog.Logger) *Coalescer {
	return &Coalescer{store: s, interval: interval, log: log, pending: make(map[string]int64)}
}

// Touch records that agent id was seen at t (server time).
func (c *Coalescer) Touch(id string, t time.Time) {
	sec := t.Unix()
	c.mu.Lock()
	if sec > c.pending[id] {
		c.pending[id] = sec
	}
	c.mu.Unlock()
}

// Pending returns the unflushed last-seen time of id, if any.
func (c *Coalescer) Pending(id string) (time.Time, bool) {
	c.mu.Lock()
	sec, ok := c.pending[id]
	c.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}

// Run flushes every interval until ctx ends, then flushes once more with
// the given grace so that a clean shutdown loses nothing.
func (c *Coalescer) Run(ctx context.Context, shutdownGrace time.Duration) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("flushing last-seen times failed; kept for the next flush", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
			err := c.Flush(fctx)
			cancel()
			if err != nil {
				c.log.Error("final flush of last-seen times failed", "err", err)
			} else {
				c.log.Info("last-seen times flushed")
			}
			return
		}
	}
}

// Flush writes every pending time to etcd in batched transactions. Entries
// whose batch failed go back to pending, so a flush during an etcd hiccup
// loses nothing.
func (c *Coalescer) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	batch := c.pending
	c.pending = make(map[string]int64, len(batch))
	c.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}

	ids := make([]string, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(flushParallelism)
	var failedMu sync.Mutex
	var failed []string
	for start := 0; start < len(ids); start += store.MaxTxnOps {
		chunk := ids[start:min(start+store.MaxTxnOps, len(ids))]
		g.Go(func() error {
			ops := make([]clientv3.Op, len(chunk))
			for i, id := range chunk {
				ops[i] = clientv3.OpPut(c.store.Key(store.KindLastSeen, id), strconv.FormatInt(batch[id], 10))
			}
			if err := c.store.Commit(gctx, ops); err != nil {
				failedMu.Lock()
				failed = append(failed, chunk...)
				failedMu.Unlock()
				return err
			}
			return nil
		})
	}
	err := g.Wait()
	if len(failed) > 0 {
		c.mu.Lock()
		for _, id := range failed {
			if batch[id] > c.pending[id] {
				c.pending[id] = batch[id]
			}
		}
		c.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("flushing %d of %d last-seen times: %w", len(failed), len(ids), err)
	}
	return nil
}

// Parse decodes a stored last-seen value.
func Parse(value []byte) (time.Time, error) {
	sec, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("last-seen value %q: %w", value, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}
