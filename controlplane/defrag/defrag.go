// Package defrag gives etcd's free pages back when it pays. Compaction
// (etcdnode's CompactionRetention) frees the superseded revisions inside
// the database file; only defragmentation shrinks the file, and the file's
// size is what counts against etcd's quota. Defragmenting blocks a member
// for its duration (seconds for a gigabyte), so it runs only when enough of
// the file is free, one member at a time, on the elected replica.
package defrag

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Job checks every member of the cluster and defragments those whose
// database file is mostly free space.
type Job struct {
	Client *clientv3.Client
	// Interval between checks.
	Interval time.Duration
	// A member is defragmented when its file holds at least MinFreeBytes
	// free and that is at least MinFreeFraction of the file.
	MinFreeBytes    int64
	MinFreeFraction float64
	Log             *slog.Logger
}

// Defaults: a check an hour; defragment when a quarter of the file, and
// at least 64 MiB, is free.
const (
	DefaultInterval        = time.Hour
	DefaultMinFreeBytes    = 64 << 20
	DefaultMinFreeFraction = 0.25
)

// Run checks after a first Interval, then every Interval, until ctx ends.
// Give it the leadership context: one replica defragments, not all.
func (j *Job) Run(ctx context.Context) {
	delay := j.Interval/2 + rand.N(j.Interval/2+1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.Log.Warn("etcd defragmentation check failed; trying again at the next check", "err", err)
		}
		delay = j.Interval
	}
}

// RunOnce checks each member and defragments those where it pays, one
// after the other. It returns how many it defragmented.
func (j *Job) RunOnce(ctx context.Context) (int, error) {
	members, err := j.Client.MemberList(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing etcd members: %w", err)
	}
	done := 0
	for _, m := range members.Members {
		if len(m.ClientURLs) == 0 {
			continue // a member added but not started yet
		}
		ep := m.ClientURLs[0]
		st, err := j.Client.Status(ctx, ep)
		if err != nil {
			return done, fmt.Errorf("status of etcd member %s (%s): %w", m.Name, ep, err)
		}
		free := st.DbSize - st.DbSizeInUse
		if free < j.MinFreeBytes || float64(free) < j.MinFreeFraction*float64(st.DbSize) {
			continue
		}
		start := time.Now()
		if _, err := j.Client.Defragment(ctx, ep); err != nil {
			return done, fmt.Errorf("defragmenting etcd member %s (%s): %w", m.Name, ep, err)
		}
		after, err := j.Client.Status(ctx, ep)
		if err != nil {
			return done, fmt.Errorf("status of etcd member %s (%s) after defragmenting: %w", m.Name, ep, err)
		}
		done++
		j.Log.Info("etcd member defragmented", "member", m.Name, "db_bytes_before", st.DbSize,
			"db_bytes_after", after.DbSize, "took", time.Since(start).Round(time.Millisecond))
	}
	return done, nil
}
