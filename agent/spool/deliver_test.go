package spool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// fakeServer stores reports like parc-server: in order, once per seq, and
// fails while it is down.
type fakeServer struct {
	mu      sync.Mutex
	down    int    // the next down sends fail
	refuse  uint64 // seq refused for good
	seqs    []uint64
	dropped uint64 // sum of SpoolDropped over stored reports
	highest uint64
}

var errServerDown = errors.New("connection refused")

func (f *fakeServer) send(_ context.Context, r *agentapi.Report) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down > 0 {
		f.down--
		return errServerDown
	}
	if r.Seq == f.refuse {
		return fmt.Errorf("HTTP 400: %w", ErrRejected)
	}
	if r.Seq <= f.highest {
		return nil // already stored: acknowledged again, not stored twice
	}
	f.highest = r.Seq
	f.seqs = append(f.seqs, r.Seq)
	f.dropped += r.SpoolDropped
	return nil
}

func TestDrain(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{MaxCount: 5})
	putT(t, s, seqRange(1, 8)...) // drops 1, 2, 3
	srv := &fakeServer{refuse: 5}
	n, err := s.Drain(context.Background(), srv.send)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || !slices.Equal(srv.seqs, []uint64{4, 6, 7, 8}) {
		t.Fatalf("delivered %d: %v, want 4: [4 6 7 8]", n, srv.seqs)
	}
	// Three dropped when full and one refused: the server was told of all.
	if srv.dropped != 4 {
		t.Fatalf("server told of %d losses, want 4", srv.dropped)
	}
	if st := s.Stats(); st.Count != 0 || st.Unreported != 0 || st.DroppedTotal != 4 {
		t.Fatalf("stats after drain %+v", st)
	}
}

func TestDrainStopsAtFailureAndKeepsOrder(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{})
	putT(t, s, 1, 2, 3)
	srv := &fakeServer{}
	var sent []uint64
	failOn := uint64(2)
	send := func(ctx context.Context, r *agentapi.Report) error {
		sent = append(sent, r.Seq)
		if r.Seq == failOn {
			return errServerDown
		}
		return srv.send(ctx, r)
	}
	n, err := s.Drain(context.Background(), send)
	if n != 1 || !errors.Is(err, errServerDown) {
		t.Fatalf("Drain = %d, %v; want 1 and the send error", n, err)
	}
	if got := s.Seqs(); !slices.Equal(got, []uint64{2, 3}) {
		t.Fatalf("left %v, want [2 3]: an unacknowledged report stays", got)
	}
	failOn = 0
	if _, err := s.Drain(context.Background(), send); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sent, []uint64{1, 2, 2, 3}) || !slices.Equal(srv.seqs, []uint64{1, 2, 3}) {
		t.Fatalf("sent %v, stored %v", sent, srv.seqs)
	}
}

func TestDeliverBacksOff(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{})
	putT(t, s, 1, 2, 3)
	srv := &fakeServer{down: 3}
	var waits []time.Duration
	wait := func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	b := &Backoff{Initial: time.Second, Max: time.Minute, Rand: constRand(0)}
	n, err := s.Deliver(context.Background(), srv.send, b, wait)
	if err != nil || n != 3 {
		t.Fatalf("Deliver = %d, %v", n, err)
	}
	if want := []time.Duration{time.Second / 2, time.Second, 2 * time.Second}; !slices.Equal(waits, want) {
		t.Fatalf("waited %v, want %v", waits, want)
	}
	if b.Attempt() != 0 {
		t.Fatalf("back-off not reset after success: attempt %d", b.Attempt())
	}
}

func TestDeliverResetsBackoffOnProgress(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{})
	putT(t, s, 1, 2)
	calls := 0
	send := func(_ context.Context, r *agentapi.Report) error {
		calls++
		// Fails at every other call: report 1 goes, report 2 needs a retry.
		if calls%2 == 0 {
			return errServerDown
		}
		return nil
	}
	var waits []time.Duration
	wait := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	b := &Backoff{Initial: time.Second, Max: time.Minute, Rand: constRand(0)}
	b.Next()
	b.Next() // earlier failures
	if _, err := s.Deliver(context.Background(), send, b, wait); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(waits, []time.Duration{time.Second / 2}) {
		t.Fatalf("waited %v, want one first-step delay after progress", waits)
	}
}

func TestDeliverStopsWithContext(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{})
	putT(t, s, 1)
	ctx, cancel := context.WithCancel(context.Background())
	srv := &fakeServer{down: 1000}
	attempts := 0
	wait := func(ctx context.Context, d time.Duration) error {
		attempts++
		if attempts == 4 {
			cancel()
		}
		return ctx.Err()
	}
	n, err := s.Deliver(ctx, srv.send, nil, wait)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Deliver = %d, %v; want 0, context.Canceled", n, err)
	}
	if s.Len() != 1 {
		t.Fatal("an undelivered report was removed")
	}
}

func TestSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep on a cancelled context: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("sleep did not return at once")
	}
	if err := sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// The collector spools while the sender delivers: every report arrives
// once, in order (run with -race).
func TestConcurrentPutAndDeliver(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{})
	srv := &fakeServer{}
	const total = 150
	var wg sync.WaitGroup
	wg.Go(func() {
		for seq := uint64(1); seq <= total; seq++ {
			if err := s.Put(testReport(seq, 0)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for {
			if _, err := s.Drain(context.Background(), srv.send); err != nil {
				t.Error(err)
				return
			}
			srv.mu.Lock()
			n := len(srv.seqs)
			srv.mu.Unlock()
			if n == total {
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("delivery did not finish")
	}
	wg.Wait()
	if !slices.Equal(srv.seqs, seqRange(1, total)) {
		t.Fatalf("server stored %v", srv.seqs)
	}
}
