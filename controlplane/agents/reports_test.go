package agents

import (
	"context"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

// TestReceiptsKeptWindow stores many reports of one agent and checks after
// each that the newest receiptsKept receipts are all there and that no
// more than receiptsKept+receiptPruneEvery-1 are kept.
func TestReceiptsKeptWindow(t *testing.T) {
	st := store.New(servertest.Client(t, servertest.StartEtcd(t).Endpoint), "/t")
	ctx := context.Background()
	for _, kept := range []int{16, 10, 1} {
		r := NewReports(st, kept)
		id := "agent-kept-" + store.SeqKey(uint64(kept))
		for seq := uint64(1); seq <= 60; seq++ {
			rep := &agentapi.Report{Schema: agentapi.SchemaVersion, Seq: seq, Fingerprint: "fp"}
			if _, err := r.Store(ctx, id, rep, time.Now()); err != nil {
				t.Fatal(err)
			}
			rcs, err := r.Receipts(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n := uint64(len(rcs)); n > uint64(kept+receiptPruneEvery-1) || n < min(seq, uint64(kept)) {
				t.Fatalf("kept %d, after report %d: %d receipts", kept, seq, n)
			}
			for i, rc := range rcs { // contiguous, ending at seq
				if want := seq - uint64(len(rcs)-1-i); rc.Seq != want {
					t.Fatalf("kept %d, after report %d: receipt %d is %d, want %d", kept, seq, i, rc.Seq, want)
				}
			}
		}
	}
}
