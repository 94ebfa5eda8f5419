package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/durable"
)

// testReport returns a report whose content is a function of seq, so a test
// can tell a report read back from the spool from any other. pad adds that
// many bytes to the report's JSON.
func testReport(seq uint64, pad int) *agentapi.Report {
	r := &agentapi.Report{
		Schema:      agentapi.SchemaVersion,
		Seq:         seq,
		CollectedAt: time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC).Add(time.Duration(seq) * 15 * time.Minute),
		Host: agentapi.HostFacts{
			Hostname: fmt.Sprintf("pret-%04d", seq),
			OS:       "windows",
			Serial:   fmt.Sprintf("PF3X%06d", seq),
			Disks:    []agentapi.Disk{{Mount: "C:", TotalBytes: 256 << 30, FreeBytes: seq << 20}},
		},
	}
	if pad > 0 {
		r.Extra = map[string]json.RawMessage{"pad": json.RawMessage(`"` + strings.Repeat("x", pad) + `"`)}
	}
	r.Fingerprint = r.ComputeFingerprint()
	return r
}

// sameReport reports whether got is want as the spool should give it back:
// equal but for SpoolDropped, which the spool sets.
func sameReport(t *testing.T, got, want *agentapi.Report) bool {
	t.Helper()
	g, w := *got, *want
	g.SpoolDropped, w.SpoolDropped = 0, 0
	gj, err := json.Marshal(&g)
	if err != nil {
		t.Fatal(err)
	}
	wj, err := json.Marshal(&w)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(gj, wj)
}

// testLogger sends the spool's log lines to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func openT(t testing.TB, dir string, l Limits) *Spool {
	t.Helper()
	s, err := Open(dir, l, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func putT(t testing.TB, s *Spool, seqs ...uint64) {
	t.Helper()
	for _, seq := range seqs {
		if err := s.Put(testReport(seq, 0)); err != nil {
			t.Fatalf("Put(%d): %v", seq, err)
		}
	}
}

// deliverT takes the oldest report, checks it is seq carrying dropped
// losses, and acknowledges it.
func deliverT(t *testing.T, s *Spool, seq, dropped uint64) {
	t.Helper()
	r, err := s.Oldest()
	if err != nil {
		t.Fatalf("Oldest: %v, want report %d", err, seq)
	}
	if r.Seq != seq || r.SpoolDropped != dropped {
		t.Fatalf("Oldest = report %d with spool_dropped %d, want report %d with %d", r.Seq, r.SpoolDropped, seq, dropped)
	}
	if !sameReport(t, r, testReport(seq, 0)) {
		t.Fatalf("report %d came back altered", seq)
	}
	if err := s.Ack(seq); err != nil {
		t.Fatalf("Ack(%d): %v", seq, err)
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestLimits(t *testing.T) {
	one, err := encode(testReport(1, 1000))
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(one)) // every padded report below has this size, give or take a digit
	tests := []struct {
		name        string
		limits      Limits
		pad         int
		puts        []uint64
		wantSeqs    []uint64
		wantDropped uint64
	}{
		{"under both limits", Limits{MaxCount: 10}, 0, seqRange(1, 5), seqRange(1, 5), 0},
		{"count limit drops the oldest", Limits{MaxCount: 3}, 0, seqRange(1, 7), seqRange(5, 7), 4},
		{"count limit of one", Limits{MaxCount: 1}, 0, seqRange(1, 3), []uint64{3}, 2},
		{"byte limit drops the oldest", Limits{MaxBytes: 3*size + size/2}, 1000, seqRange(1, 6), seqRange(4, 6), 3},
		{"byte limit of exactly two", Limits{MaxBytes: 2*size + 10}, 1000, seqRange(1, 4), seqRange(3, 4), 2},
		{"both limits, count binds", Limits{MaxCount: 2, MaxBytes: 10 * size}, 1000, seqRange(1, 4), seqRange(3, 4), 2},
		{"replacing a report adds nothing", Limits{MaxCount: 3}, 0, []uint64{1, 2, 3, 3, 3, 2}, seqRange(1, 3), 0},
		{"out of order puts drop the lowest seq", Limits{MaxCount: 2}, 0, []uint64{5, 3, 9, 4}, []uint64{5, 9}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, tt.limits)
			for _, seq := range tt.puts {
				if err := s.Put(testReport(seq, tt.pad)); err != nil {
					t.Fatalf("Put(%d): %v", seq, err)
				}
			}
			check := func(s *Spool, when string) {
				t.Helper()
				if got := s.Seqs(); !slices.Equal(got, tt.wantSeqs) {
					t.Errorf("%s: seqs %v, want %v", when, got, tt.wantSeqs)
				}
				st := s.Stats()
				if st.DroppedTotal != tt.wantDropped || st.Unreported != tt.wantDropped {
					t.Errorf("%s: dropped %d, unreported %d, want %d", when, st.DroppedTotal, st.Unreported, tt.wantDropped)
				}
				if st.Count > s.limits.MaxCount || st.Bytes > s.limits.MaxBytes {
					t.Errorf("%s: %d reports, %d bytes: over limits %+v", when, st.Count, st.Bytes, s.limits)
				}
			}
			check(s, "after puts")
			// The drop count is on disk: a restart keeps it.
			check(openT(t, dir, tt.limits), "after reopen")
		})
	}
}

func TestShrunkLimitsTrimAtOpen(t *testing.T) {
	dir := t.TempDir()
	putT(t, openT(t, dir, Limits{}), seqRange(1, 10)...)
	s := openT(t, dir, Limits{MaxCount: 4})
	if got, want := s.Seqs(), seqRange(7, 10); !slices.Equal(got, want) {
		t.Fatalf("seqs %v, want %v", got, want)
	}
	deliverT(t, s, 7, 6)
}

func TestLimitsValidation(t *testing.T) {
	for _, l := range []Limits{{MaxCount: -1}, {MaxBytes: -5}} {
		if _, err := Open(t.TempDir(), l, nil); err == nil {
			t.Errorf("Open with limits %+v: no error", l)
		}
	}
	s, err := Open(t.TempDir(), Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.limits.MaxCount != DefaultMaxCount || s.limits.MaxBytes != DefaultMaxBytes {
		t.Errorf("zero limits became %+v, want the defaults", s.limits)
	}
}

func TestDroppedCountIsToldOnceAcknowledged(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Limits{MaxCount: 3})
	putT(t, s, seqRange(1, 5)...) // drops 1 and 2

	// Delivered but not acknowledged (server down, agent killed): the
	// count stays owed and the same report carries it again after restart.
	r, err := s.Oldest()
	if err != nil || r.Seq != 3 || r.SpoolDropped != 2 {
		t.Fatalf("Oldest = %+v, %v; want report 3 carrying 2", r, err)
	}
	s = openT(t, dir, Limits{MaxCount: 3})
	deliverT(t, s, 3, 2)
	if st := s.Stats(); st.Unreported != 0 || st.DroppedTotal != 2 {
		t.Fatalf("after ack: %+v, want nothing unreported out of 2", st)
	}
	deliverT(t, s, 4, 0)

	// New losses after a report was told are told by the next one.
	putT(t, s, seqRange(6, 9)...) // holds 5..9 minus two: drops 5 and 6
	deliverT(t, s, 7, 2)
	deliverT(t, s, 8, 0)
	s = openT(t, dir, Limits{MaxCount: 3})
	deliverT(t, s, 9, 0)
	if _, err := s.Oldest(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Oldest on an empty spool: %v, want ErrEmpty", err)
	}
	if st := s.Stats(); st.DroppedTotal != 4 || st.Unreported != 0 {
		t.Fatalf("final stats %+v, want 4 dropped, all told", st)
	}
}

func TestAckIsIdempotent(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{MaxCount: 2})
	putT(t, s, 1, 2, 3) // drops 1
	deliverT(t, s, 2, 1)
	for range 3 {
		if err := s.Ack(2); err != nil {
			t.Fatalf("repeated Ack(2): %v", err)
		}
	}
	if err := s.Ack(77); err != nil {
		t.Fatalf("Ack of a report never spooled: %v", err)
	}
	if st := s.Stats(); st.Unreported != 0 || st.Count != 1 {
		t.Fatalf("stats %+v after repeated acks, want one report, nothing unreported", st)
	}
	deliverT(t, s, 3, 0)
}

func TestDropOfReportInFlight(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{MaxCount: 2})
	putT(t, s, 1, 2)
	r, err := s.Oldest()
	if err != nil || r.Seq != 1 {
		t.Fatalf("Oldest = %v, %v", r, err)
	}
	putT(t, s, 3) // full: drops report 1 while it is being delivered
	if st := s.Stats(); st.Unreported != 1 {
		t.Fatalf("unreported %d after the drop, want 1", st.Unreported)
	}
	// The server took report 1 after all: it was no loss.
	if err := s.Ack(1); err != nil {
		t.Fatal(err)
	}
	deliverT(t, s, 2, 0)
	deliverT(t, s, 3, 0)
}

func TestReopenKeepsOrderAndContent(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Limits{})
	seqs := seqRange(1, 60)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(seqs), func(i, j int) { seqs[i], seqs[j] = seqs[j], seqs[i] })
	putT(t, s, seqs...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Limits{})
	for seq := uint64(1); seq <= 60; seq++ {
		if seq%20 == 0 {
			s = openT(t, dir, Limits{}) // restarts between deliveries
		}
		deliverT(t, s, seq, 0)
	}
	if s.Len() != 0 {
		t.Fatalf("%d reports left", s.Len())
	}
}

func TestOpenRecoversFromCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Limits{})
	putT(t, s, seqRange(1, 9)...)
	good := func(seq uint64) []byte {
		b, err := encode(testReport(seq, 0))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	flipped := good(5)
	flipped[len(flipped)-3] ^= 0x20                     // same length, body damaged: caught by the checksum at delivery
	write(fileName(2), good(2)[:40])                    // torn inside the header
	write(fileName(3), good(3)[:len(good(3))-7])        // truncated body
	write(fileName(4), nil)                             // empty
	write(fileName(5), flipped)                         // bit rot
	write(fileName(6), good(7))                         // another report's content
	write(fileName(8), []byte("MZ\x90\x00garbage\n{}")) // not a spool file
	write(durable.TempPrefix+"1234567", good(10)[:100]) // a write cut short
	write("notes.txt", []byte("a technician's note"))   // not ours: left alone
	write("00000000000000000abc.spool", []byte("x"))    // not a report name: left alone

	s = openT(t, dir, Limits{})
	// Torn, truncated, empty and garbage files are caught at Open.
	if got, want := s.Seqs(), []uint64{1, 5, 6, 7, 9}; !slices.Equal(got, want) {
		t.Fatalf("after recovery seqs %v, want %v", got, want)
	}
	if st := s.Stats(); st.DroppedTotal != 4 {
		t.Fatalf("dropped %d at Open, want the 4 corrupt files counted", st.DroppedTotal)
	}
	// Bit rot and misplaced content are caught at delivery, and counted.
	deliverT(t, s, 1, 4)
	deliverT(t, s, 7, 2)
	deliverT(t, s, 9, 0)
	if _, err := s.Oldest(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Oldest: %v, want ErrEmpty", err)
	}

	for _, name := range []string{durable.TempPrefix + "1234567"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Open", name)
		}
	}
	for _, name := range []string{"notes.txt", "00000000000000000abc.spool"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v; a file the spool does not own must be left alone", name, err)
		}
	}
	q, err := os.ReadDir(filepath.Join(dir, quarantineDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range q {
		names = append(names, de.Name())
	}
	want := []string{fileName(2), fileName(3), fileName(4), fileName(5), fileName(6), fileName(8)}
	if !slices.Equal(names, want) {
		t.Errorf("set aside %v, want %v", names, want)
	}
}

func TestQuarantineIsBounded(t *testing.T) {
	dir := t.TempDir()
	for seq := uint64(1); seq <= maxQuarantined+5; seq++ {
		if err := os.WriteFile(filepath.Join(dir, fileName(seq)), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := openT(t, dir, Limits{})
	if st := s.Stats(); st.DroppedTotal != maxQuarantined+5 {
		t.Fatalf("dropped %d, want %d", st.DroppedTotal, maxQuarantined+5)
	}
	q, err := os.ReadDir(filepath.Join(dir, quarantineDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != maxQuarantined || q[0].Name() != fileName(6) {
		t.Fatalf("kept %d set-aside files starting at %s, want the newest %d", len(q), q[0].Name(), maxQuarantined)
	}
}

// A crash between saving the loss accounting and removing the file it
// accounts for must neither lose nor double the count.
func TestOpenFinishesInterruptedRemovals(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Limits{})
		putT(t, s, 1, 2, 3)
		// What trim saves before it removes report 1.
		if err := saveState(dir, state{Dropped: 1, DroppedSeq: 1}); err != nil {
			t.Fatal(err)
		}
		s = openT(t, dir, Limits{})
		if got := s.Seqs(); !slices.Equal(got, []uint64{2, 3}) {
			t.Fatalf("seqs %v, want [2 3]", got)
		}
		deliverT(t, s, 2, 1)
	})
	t.Run("ack", func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Limits{MaxCount: 2})
		putT(t, s, 1, 2, 3) // drops 1
		// What Ack saves before it removes report 2, which told the loss.
		if err := saveState(dir, state{Dropped: 1, Reported: 1, DroppedSeq: 1, AckedSeq: 2}); err != nil {
			t.Fatal(err)
		}
		s = openT(t, dir, Limits{MaxCount: 2})
		if got := s.Seqs(); !slices.Equal(got, []uint64{3}) {
			t.Fatalf("seqs %v, want [3]", got)
		}
		deliverT(t, s, 3, 0)
	})
}

func TestPutReusingASettledSeq(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Limits{MaxCount: 2})
	putT(t, s, 1, 2, 3) // drops 1
	deliverT(t, s, 2, 1)
	// The agent lost its counter and numbers a new report 2 again. Open
	// must not take it for the leftover of the acknowledged one.
	putT(t, s, 2)
	s = openT(t, dir, Limits{MaxCount: 2})
	if got := s.Seqs(); !slices.Equal(got, []uint64{2, 3}) {
		t.Fatalf("seqs %v, want [2 3]", got)
	}
}

func TestCorruptStateDoesNotStopTheAgent(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Limits{MaxCount: 1})
	putT(t, s, 1, 2)
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(`{"version":1,"drop`), 0o600); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Limits{MaxCount: 1})
	deliverT(t, s, 2, 0) // the earlier count is gone, as the log says
	if _, err := loadState(dir); err != nil {
		t.Fatalf("state not rewritten: %v", err)
	}
}

func TestPutRejects(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{MaxBytes: 4096})
	if err := s.Put(nil); err == nil {
		t.Error("Put(nil): no error")
	}
	if err := s.Put(testReport(0, 0)); err == nil {
		t.Error("Put of a report without seq: no error")
	}
	if err := s.Put(testReport(1, 5000)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put of a report over MaxBytes: %v, want ErrTooLarge", err)
	}
	big := openT(t, t.TempDir(), Limits{})
	if err := big.Put(testReport(1, agentapi.MaxBodyBytes)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put of a report the server would refuse: %v, want ErrTooLarge", err)
	}
	if st := s.Stats(); st.Count != 0 || st.DroppedTotal != 0 {
		t.Errorf("refused puts changed the spool: %+v", st)
	}
}

func TestClosed(t *testing.T) {
	s := openT(t, t.TempDir(), Limits{})
	putT(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(testReport(2, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	if _, err := s.Oldest(); !errors.Is(err, ErrClosed) {
		t.Errorf("Oldest after Close: %v", err)
	}
	if err := s.Ack(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack after Close: %v", err)
	}
}

func TestFileNames(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64
		ok   bool
	}{
		{fileName(1), 1, true},
		{fileName(18446744073709551615), 18446744073709551615, true},
		{"00000000000000000000.spool", 0, false},
		{"0000000000000000001.spool", 0, false},
		{"00000000000000000001.json", 0, false},
		{"-0000000000000000001.spool", 0, false},
		{"99999999999999999999.spool", 0, false}, // over uint64
		{"state.json", 0, false},
	}
	for _, tt := range tests {
		seq, ok := parseFileName(tt.name)
		if seq != tt.seq || ok != tt.ok {
			t.Errorf("parseFileName(%q) = %d, %v; want %d, %v", tt.name, seq, ok, tt.seq, tt.ok)
		}
	}
	// Lexical order of names is the order of seqs.
	if !(fileName(9) < fileName(10) && fileName(99) < fileName(100)) {
		t.Error("file names do not sort by seq")
	}
}

func BenchmarkPutAck(b *testing.B) {
	s, err := Open(b.TempDir(), Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := testReport(1, 4000) // a typical report: about 5 KiB
	seq := uint64(0)
	for b.Loop() {
		seq++
		r.Seq = seq
		if err := s.Put(r); err != nil {
			b.Fatal(err)
		}
		if err := s.Ack(seq); err != nil {
			b.Fatal(err)
		}
	}
}
