package agents

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/store"
)

// Observed is an agent's latest report as stored, with the server's time of
// receipt (the agent's clock is not trusted for anything but CollectedAt).
type Observed struct {
	ReceivedAt time.Time       `json:"received_at"`
	Report     agentapi.Report `json:"report"`
}

// Receipt is the small record kept of every report stored: the trail that
// shows each report arrived once, and in order.
type Receipt struct {
	Seq          uint64    `json:"seq"`
	Fingerprint  string    `json:"fingerprint"`
	CollectedAt  time.Time `json:"collected_at"`
	ReceivedAt   time.Time `json:"received_at"`
	SpoolDropped uint64    `json:"spool_dropped,omitempty"`
}

// latest is what the server must know of an agent's stored report to
// answer a check-in without reading etcd: its sequence number, fingerprint
// and the revision of the observed key (for compare-on-revision).
type latest struct {
	seq         uint64
	fingerprint string
	rev         int64 // 0: no report stored yet
}

// Reports stores agents' reports and answers which one each agent has.
type Reports struct {
	store *store.Store
	// receiptsKept is how many receipts are kept per agent at least; older
	// ones are deleted, receiptPruneEvery at a time, in the transaction that
	// adds a new one.
	receiptsKept uint64

	mu     sync.Mutex
	latest map[string]latest
}

// NewReports returns the report store.
func NewReports(s *store.Store, receiptsKept int) *Reports {
	return &Reports{store: s, receiptsKept: uint64(max(receiptsKept, 1)), latest: make(map[string]latest)}
}

// current returns what is stored for agent id: from memory, or from etcd
// when this replica has not seen the agent yet or when fresh is set (another
// replica may have stored a newer report).
func (r *Reports) current(ctx context.Context, id string, fresh bool) (latest, error) {
	if !fresh {
		r.mu.Lock()
		l, ok := r.latest[id]
		r.mu.Unlock()
		if ok {
			return l, nil
		}
	}
	var obs Observed
	rev, err := r.store.Get(ctx, r.store.Key(store.KindObserved, id), &obs)
	if errors.Is(err, store.ErrNotFound) {
		r.remember(id, latest{})
		return latest{}, nil
	}
	if err != nil {
		return latest{}, err
	}
	l := latest{seq: obs.Report.Seq, fingerprint: obs.Report.Fingerprint, rev: rev}
	r.remember(id, l)
	return l, nil
}

func (r *Reports) remember(id string, l latest) {
	r.mu.Lock()
	if cur, ok := r.latest[id]; !ok || l.rev >= cur.rev {
		r.latest[id] = l
	}
	r.mu.Unlock()
}

// Forget drops what this replica remembers of an agent (it was deleted).
func (r *Reports) Forget(id string) {
	r.mu.Lock()
	delete(r.latest, id)
	r.mu.Unlock()
}

// receiptPruneEvery: every this many reports, the receipts fallen out of
// the kept window are deleted in one range delete.
const receiptPruneEvery = 8

// storeAttempts bounds retries when another replica stores a report of the
// same agent at the same moment (an agent that switched replicas).
const storeAttempts = 5

// Store makes rep durable as agent id's latest report, unless a report with
// the same or a higher sequence number is already stored (a redelivery from
// the spool whose acknowledgement was lost). It returns the highest stored
// sequence number. When it returns nil, the report is in etcd.
func (r *Reports) Store(ctx context.Context, id string, rep *agentapi.Report, now time.Time) (uint64, error) {
	obsKey := r.store.Key(store.KindObserved, id)
	fresh := false
	for range storeAttempts {
		cur, err := r.current(ctx, id, fresh)
		if err != nil {
			return 0, err
		}
		if rep.Seq <= cur.seq {
			return cur.seq, nil
		}
		obs, err := store.Encode(Observed{ReceivedAt: now.UTC(), Report: *rep})
		if err != nil {
			return 0, err
		}
		rc, err := store.Encode(Receipt{Seq: rep.Seq, Fingerprint: rep.Fingerprint,
			CollectedAt: rep.CollectedAt, ReceivedAt: now.UTC(), SpoolDropped: rep.SpoolDropped})
		if err != nil {
			return 0, err
		}
		// No last-seen write: the observed report's ReceivedAt is the
		// last-seen time of a full report, and every reader takes the later
		// of it and lastseen/ (heartbeats, coalesced).
		ops := []clientv3.Op{
			clientv3.OpPut(obsKey, string(obs)),
			clientv3.OpPut(r.store.Key(store.KindReportLog, id, store.SeqKey(rep.Seq)), string(rc)),
		}
		if rep.Seq > r.receiptsKept && rep.Seq%receiptPruneEvery == 0 {
			// Receipts are contiguous unless the spool dropped some, so
			// deleting the ones more than receiptsKept back, a few at a
			// time, keeps the count bounded (receiptsKept to
			// receiptsKept+receiptPruneEvery-1) for one operation every
			// few reports; retention catches any left over after a gap.
			last := rep.Seq - r.receiptsKept // deleted, inclusive
			first := last - min(last, receiptPruneEvery-1)
			ops = append(ops, clientv3.OpDelete(r.store.Key(store.KindReportLog, id, store.SeqKey(first)),
				clientv3.WithRange(r.store.Key(store.KindReportLog, id, store.SeqKey(last+1)))))
		}
		resp, err := r.store.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(obsKey), "=", cur.rev)).
			Then(ops...).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("storing report %d of agent %s: %w", rep.Seq, id, err)
		}
		if resp.Succeeded {
			r.remember(id, latest{seq: rep.Seq, fingerprint: rep.Fingerprint, rev: resp.Header.Revision})
			return rep.Seq, nil
		}
		fresh = true
	}
	return 0, fmt.Errorf("storing report %d of agent %s: %w", rep.Seq, id, store.ErrConflict)
}

// Fingerprint returns the fingerprint of the stored report of agent id, ""
// when none is stored. fresh reads etcd rather than memory.
func (r *Reports) Fingerprint(ctx context.Context, id string, fresh bool) (string, uint64, error) {
	l, err := r.current(ctx, id, fresh)
	return l.fingerprint, l.seq, err
}

// Observed reads the stored report of agent id.
func (r *Reports) Observed(ctx context.Context, id string) (Observed, error) {
	var obs Observed
	_, err := r.store.Get(ctx, r.store.Key(store.KindObserved, id), &obs)
	return obs, err
}

// Receipts lists the receipts kept for agent id, oldest first.
func (r *Reports) Receipts(ctx context.Context, id string) ([]Receipt, error) {
	return store.ListValues[Receipt](ctx, r.store, r.store.Key(store.KindReportLog, id)+"/")
}

// DeleteReceiptsBefore deletes the receipts of reports received before
// cutoff (retention), in batched transactions, and returns how many. The
// latest report of each agent (observed/) is its current state and stays.
func (r *Reports) DeleteReceiptsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	var ops []clientv3.Op
	var deleted int64
	flush := func() error {
		if err := r.store.Commit(ctx, ops); err != nil {
			return err
		}
		deleted += int64(len(ops))
		ops = ops[:0]
		return nil
	}
	_, err := r.store.List(ctx, r.store.Prefix(store.KindReportLog), func(kv store.KV) error {
		var rc Receipt
		if err := store.Decode(kv.Value, &rc); err != nil {
			return fmt.Errorf("%s: %w", kv.Key, err)
		}
		if !rc.ReceivedAt.Before(cutoff) {
			return nil
		}
		// Receipts are never rewritten, so a plain delete cannot lose a
		// newer one.
		ops = append(ops, clientv3.OpDelete(kv.Key))
		if len(ops) == store.MaxTxnOps {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return deleted, fmt.Errorf("deleting report receipts before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return deleted, nil
}
