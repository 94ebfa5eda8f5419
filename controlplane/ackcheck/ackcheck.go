// Package ackcheck checks that every report a simulated agent saw
// acknowledged is durable in etcd: the check of "no acknowledged report is
// lost" that load and fault tests end with.
package ackcheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/store"
)

// parallelism bounds the agents read at once.
const parallelism = 16

// VerifyAcked reads, for each agent in acked, its stored report
// (observed/<agent>) and receipts (reportlog/<agent>/<seq>) under prefix,
// and returns the acknowledged reports that are not durable. An ack is
// durable when its receipt is there with its fingerprint, or when it is
// the stored report itself. A receipt may be missing only because it was
// pruned: older than every receipt kept and not newer than the stored
// report. A lost report is found as long as it is among the last receipts
// kept (16 by default) of its agent.
func VerifyAcked(ctx context.Context, cli *clientv3.Client, prefix string, acked []sim.Ack) (missing []sim.Ack, err error) {
	st := store.New(cli, prefix)
	reports := agents.NewReports(st, 1)
	byAgent := make(map[string][]sim.Ack)
	for _, a := range acked {
		byAgent[a.AgentID] = append(byAgent[a.AgentID], a)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for id, acks := range byAgent {
		g.Go(func() error {
			lost, err := verifyAgent(gctx, reports, id, acks)
			if err != nil {
				return err
			}
			mu.Lock()
			missing = append(missing, lost...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(missing, func(a, b sim.Ack) int {
		return cmp.Or(cmp.Compare(a.AgentID, b.AgentID), cmp.Compare(a.Seq, b.Seq))
	})
	return missing, nil
}

func verifyAgent(ctx context.Context, reports *agents.Reports, id string, acks []sim.Ack) ([]sim.Ack, error) {
	obs, err := reports.Observed(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return acks, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the stored report of agent %s: %w", id, err)
	}
	receipts, err := reports.Receipts(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading the receipts of agent %s: %w", id, err)
	}
	bySeq := make(map[uint64]string, len(receipts))
	oldest := obs.Report.Seq + 1
	for _, r := range receipts {
		bySeq[r.Seq] = r.Fingerprint
		oldest = min(oldest, r.Seq)
	}
	var lost []sim.Ack
	for _, a := range acks {
		fp, ok := bySeq[a.Seq]
		switch {
		case ok && fp == a.Fingerprint:
		case a.Seq == obs.Report.Seq && obs.Report.Fingerprint == a.Fingerprint:
		case !ok && a.Seq < oldest && a.Seq <= obs.Report.Seq:
			// pruned
		default:
			lost = append(lost, a)
		}
	}
	return lost, nil
}
