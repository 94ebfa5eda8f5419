package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cache mirrors every record of one kind in memory: it lists them, then
// follows a watch from the listed revision. Replicas of parc-server hold
// only such caches; etcd stays the source of truth. On a compacted watch it
// lists again, so it never misses a change for long.
type Cache[T any] struct {
	store  *Store
	kind   string
	log    *slog.Logger
	decode func(id string, data []byte) (T, error)
	notify func(id string) // after a change of id; "" after a full list

	mu    sync.RWMutex
	items map[string]T
	ready chan struct{}
	once  sync.Once
}

// NewCache returns a cache of every record of kind, decoded from JSON; Run
// fills it.
func NewCache[T any](s *Store, kind string, log *slog.Logger) *Cache[T] {
	return NewCacheFunc(s, kind, func(_ string, data []byte) (T, error) {
		var v T
		err := Decode(data, &v)
		return v, err
	}, log)
}

// NewCacheFunc returns a cache whose values decode turns into T: a digest
// of a large record, so that memory holds only what its reader needs.
func NewCacheFunc[T any](s *Store, kind string, decode func(id string, data []byte) (T, error), log *slog.Logger) *Cache[T] {
	return &Cache[T]{
		store:  s,
		kind:   kind,
		log:    log.With("cache", kind),
		decode: decode,
		items:  make(map[string]T),
		ready:  make(chan struct{}),
	}
}

// OnChange makes the cache call fn with the id of each record that changed
// (created, updated or deleted), and with "" after it listed everything
// anew (anything may have changed). Set it before Run; fn must be quick.
func (c *Cache[T]) OnChange(fn func(id string)) { c.notify = fn }

// Run keeps the cache in step with etcd until ctx ends.
func (c *Cache[T]) Run(ctx context.Context) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		rev, err := c.relist(ctx)
		if err == nil {
			c.once.Do(func() { close(c.ready) })
			delay = 100 * time.Millisecond
			err = c.watch(ctx, rev)
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("cache out of step with etcd, listing again", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// WaitReady blocks until the first list completed.
func (c *Cache[T]) WaitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the %s cache: %w", c.kind, ctx.Err())
	}
}

func (c *Cache[T]) relist(ctx context.Context) (int64, error) {
	items := make(map[string]T)
	rev, err := c.store.List(ctx, c.store.Prefix(c.kind), func(kv KV) error {
		id := c.store.IDFromKey(c.kind, kv.Key)
		v, err := c.decode(id, kv.Value)
		if err != nil {
			c.log.Error("skipping undecodable record", "key", kv.Key, "err", err)
			return nil
		}
		items[id] = v
		return nil
	})
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.items = items
	c.mu.Unlock()
	if c.notify != nil {
		c.notify("")
	}
	return rev, nil
}

func (c *Cache[T]) watch(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	ch := c.store.Client.Watch(wctx, c.store.Prefix(c.kind), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for resp := range ch {
		if err := resp.Err(); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return fmt.Errorf("watch compacted at revision %d: %w", resp.CompactRevision, err)
			}
			return fmt.Errorf("watch: %w", err)
		}
		changed := make([]string, 0, len(resp.Events))
		c.mu.Lock()
		for _, ev := range resp.Events {
			id := c.store.IDFromKey(c.kind, string(ev.Kv.Key))
			if ev.Type == clientv3.EventTypeDelete {
				delete(c.items, id)
				changed = append(changed, id)
				continue
			}
			v, err := c.decode(id, ev.Kv.Value)
			if err != nil {
				c.log.Error("skipping undecodable record", "key", string(ev.Kv.Key), "err", err)
				continue
			}
			c.items[id] = v
			changed = append(changed, id)
		}
		c.mu.Unlock()
		if c.notify != nil {
			for _, id := range changed {
				c.notify(id)
			}
		}
	}
	return errors.New("watch closed")
}

// Get returns the cached record of id.
func (c *Cache[T]) Get(id string) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.items[id]
	return v, ok
}

// Load returns the record of id from the cache, or from etcd when the cache
// does not have it yet (written by another replica a moment ago).
func (c *Cache[T]) Load(ctx context.Context, id string) (T, error) {
	if v, ok := c.Get(id); ok {
		return v, nil
	}
	data, _, err := c.store.GetRaw(ctx, c.store.Key(c.kind, id))
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := c.decode(id, data)
	if err != nil {
		return v, fmt.Errorf("%s %s: %w", c.kind, id, err)
	}
	c.Set(id, v)
	return v, nil
}

// Set records a write this replica just made, so that it reads its own
// writes before the watch event arrives.
func (c *Cache[T]) Set(id string, v T) {
	c.mu.Lock()
	c.items[id] = v
	c.mu.Unlock()
}

// Delete records a deletion this replica just made, so that it stops
// serving the record before the watch event arrives.
func (c *Cache[T]) Delete(id string) {
	c.mu.Lock()
	delete(c.items, id)
	c.mu.Unlock()
}

// Len is the number of cached records.
func (c *Cache[T]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

// Range calls fn for each cached record until fn returns false. fn must not
// call back into the cache.
func (c *Cache[T]) Range(fn func(id string, v T) bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for id, v := range c.items {
		if !fn(id, v) {
			return
		}
	}
}
