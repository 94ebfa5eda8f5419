// Package store is parc-server's access to etcd, the one source of truth:
// the key layout, the value encoding, paginated listing, batched writes and
// list+watch caches. Domain packages keep their own records and
// transactions but build every key here, so the layout is written down once
// (keys.go).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultPrefix is where parc keeps its keys when not configured otherwise.
const DefaultPrefix = "/parc/"

// MaxTxnOps is etcd's default limit of operations in one transaction.
const MaxTxnOps = 128

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a compare-on-revision transaction lost a race:
// someone else changed the key since it was read.
var ErrConflict = errors.New("changed concurrently")

// Store wraps an etcd client with parc's key layout.
type Store struct {
	Client *clientv3.Client
	// root is the configured prefix plus the layout version, e.g. "/parc/v1/".
	root string
}

// New returns a store whose keys live under prefix (DefaultPrefix if empty).
func New(cli *clientv3.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Store{Client: cli, root: prefix + LayoutVersion + "/"}
}

// Root is the prefix every parc key starts with.
func (s *Store) Root() string { return s.root }

// Encode turns a record into an etcd value.
func Encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", v, err)
	}
	return data, nil
}

// Decode turns an etcd value back into a record.
func Decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %T: %w", v, err)
	}
	return nil
}

// Get reads one record. It returns the key's mod revision, for a later
// compare-on-revision transaction, or ErrNotFound.
func (s *Store) Get(ctx context.Context, key string, v any) (int64, error) {
	resp, err := s.Client.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return 0, ErrNotFound
	}
	kv := resp.Kvs[0]
	if err := Decode(kv.Value, v); err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return kv.ModRevision, nil
}

// GetRaw reads one value as stored, with its mod revision, or ErrNotFound.
func (s *Store) GetRaw(ctx context.Context, key string) ([]byte, int64, error) {
	resp, err := s.Client.Get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, ErrNotFound
	}
	return resp.Kvs[0].Value, resp.Kvs[0].ModRevision, nil
}

// Put writes one record unconditionally.
func (s *Store) Put(ctx context.Context, key string, v any) error {
	data, err := Encode(v)
	if err != nil {
		return err
	}
	if _, err := s.Client.Put(ctx, key, string(data)); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return nil
}

// Create writes a record only if the key does not exist yet; ErrConflict
// otherwise. extra ops (an audit entry) commit in the same transaction.
func (s *Store) Create(ctx context.Context, key string, v any, extra ...clientv3.Op) error {
	return s.PutIfRevision(ctx, key, v, 0, extra...)
}

// PutIfRevision writes a record only if the key's mod revision is still rev
// (0: the key must not exist). It returns ErrConflict when it lost the race.
// extra ops (an audit entry) commit in the same transaction.
func (s *Store) PutIfRevision(ctx context.Context, key string, v any, rev int64, extra ...clientv3.Op) error {
	data, err := Encode(v)
	if err != nil {
		return err
	}
	resp, err := s.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(append([]clientv3.Op{clientv3.OpPut(key, string(data))}, extra...)...).
		Commit()
	if err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("writing %s: %w", key, ErrConflict)
	}
	return nil
}

// KV is one listed key with its raw value and mod revision.
type KV struct {
	Key         string
	Value       []byte
	ModRevision int64
}

// listPage bounds one range request: large enough to list 100,000 keys in a
// few dozen round trips, small enough not to hold a huge response in memory.
const listPage = 2000

// List calls fn for every key under prefix, in key order, reading in pages
// at one consistent revision, and returns that revision (to start a watch
// from). It stops at the first error fn returns.
func (s *Store) List(ctx context.Context, prefix string, fn func(KV) error) (int64, error) {
	return s.ListFrom(ctx, prefix, "", 0, fn)
}

// ListFrom is List starting after key `after` (exclusive, "" for the start)
// and stopping after limit keys (0: no limit).
func (s *Store) ListFrom(ctx context.Context, prefix, after string, limit int, fn func(KV) error) (int64, error) {
	return s.list(ctx, prefix, after, limit, 0, fn)
}

// ListAt is List at revision rev, so that several prefixes can be read as
// one consistent snapshot.
func (s *Store) ListAt(ctx context.Context, prefix string, rev int64, fn func(KV) error) error {
	_, err := s.list(ctx, prefix, "", 0, rev, fn)
	return err
}

func (s *Store) list(ctx context.Context, prefix, after string, limit int, rev int64, fn func(KV) error) (int64, error) {
	end := clientv3.GetPrefixRangeEnd(prefix)
	start := prefix
	if after != "" {
		start = after + "\x00"
	}
	seen := 0
	for {
		page := int64(listPage)
		if limit > 0 && int64(limit-seen) < page {
			page = int64(limit - seen)
		}
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.Client.Get(ctx, start, opts...)
		if err != nil {
			return 0, fmt.Errorf("listing %s: %w", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision}); err != nil {
				return rev, err
			}
			seen++
		}
		if !resp.More || len(resp.Kvs) == 0 || (limit > 0 && seen >= limit) {
			return rev, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Commit runs ops in transactions of at most MaxTxnOps each. It is for
// batches whose ops are independent of each other (last-seen times): a
// failure part-way leaves the earlier chunks written.
func (s *Store) Commit(ctx context.Context, ops []clientv3.Op) error {
	for len(ops) > 0 {
		n := min(len(ops), MaxTxnOps)
		if _, err := s.Client.Txn(ctx).Then(ops[:n]...).Commit(); err != nil {
			return fmt.Errorf("committing %d writes: %w", n, err)
		}
		ops = ops[n:]
	}
	return nil
}

// ListValues decodes every record under prefix, in key order.
func ListValues[T any](ctx context.Context, s *Store, prefix string) ([]T, error) {
	var out []T
	_, err := s.List(ctx, prefix, func(kv KV) error {
		var v T
		if err := Decode(kv.Value, &v); err != nil {
			return fmt.Errorf("%s: %w", kv.Key, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
