package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/store"
)

// replicaTTL is the lease of a replica's registration: a replica that died,
// or whose etcd member did, drops out of the list about this long after.
const replicaTTL = 10 * time.Second

// Run registers this replica (replicas/<name>) under a lease it renews
// through its etcd client, until ctx ends; the key goes with the lease. An
// embedded replica's client talks only to its own member, so the key also
// says that member is alive and in the quorum: the health of members whose
// client URL cannot be reached from other machines (127.0.0.1).
func (c *Cluster) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := c.register(ctx)
		if ctx.Err() != nil {
			return
		}
		c.Log.Warn("replica registration lost; registering again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (c *Cluster) register(ctx context.Context) error {
	session, err := concurrency.NewSession(c.Client, concurrency.WithTTL(int(replicaTTL.Seconds())), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("etcd session: %w", err)
	}
	defer session.Close()
	r := adminapi.Replica{Name: c.Replica, Since: time.Now().UTC()}
	if c.MemberID != 0 {
		r.EtcdMemberID = strconv.FormatUint(c.MemberID, 16)
	}
	data, err := store.Encode(r)
	if err != nil {
		return err
	}
	key := c.replicaKey(c.Replica)
	if _, err := c.Client.Put(ctx, key, string(data), clientv3.WithLease(session.Lease())); err != nil {
		return fmt.Errorf("registering replica %s: %w", c.Replica, err)
	}
	select {
	case <-ctx.Done():
	case <-session.Done():
		return fmt.Errorf("lease of replica %s lost", c.Replica)
	}
	// Stopping: drop the key now rather than when the lease runs out.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_, err = c.Client.Delete(dctx, key)
	return err
}

func (c *Cluster) replicaKey(name string) string {
	return c.Root + store.KindReplicas + "/" + name
}

// replicas lists the registered replicas, by name.
func (c *Cluster) replicas(ctx context.Context) ([]adminapi.Replica, error) {
	resp, err := c.Client.Get(ctx, c.replicaKey(""), clientv3.WithPrefix(), clientv3.WithSerializable())
	if err != nil {
		return nil, fmt.Errorf("listing replicas: %w", err)
	}
	out := make([]adminapi.Replica, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var r adminapi.Replica
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			c.Log.Warn("unreadable replica registration", "key", string(kv.Key), "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
