// Package spool keeps the agent's undelivered reports in a bounded on-disk
// queue, so that what a loaner measured during weeks offline reaches the
// server, in order, once it is reachable again.
//
// Every report goes through the spool: the agent Puts it (durable once Put
// returns), then delivers oldest-first with Deliver, Drain, or Oldest and
// Ack, and a report is deleted only once the server acknowledged it. A report
// sent without being spooled first would be lost by a crash during the
// send, and would not carry the spool's loss count.
//
// When the spool is full the oldest report is dropped. Every loss (dropped,
// found corrupt, refused by the server for good) is counted on disk, and the
// report Oldest hands out carries in SpoolDropped the losses the server has
// not been told about yet. The count is settled only when that report is
// acknowledged, so a crash at any point leaves it still to be told: at
// worst a loss is told twice (see Ack), never not at all.
//
// Crash safety rests on three things: a report file appears whole or not at
// all (temporary file, fsync, rename, fsync of the directory); every file
// carries its length and checksum, and one that fails them is set aside and
// counted as lost rather than stopping the agent; and the loss accounting is
// saved before the file it accounts for is removed.
package spool

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/durable"
)

// Defaults for Limits. A report is 2–10 KiB of JSON; one every 15 minutes
// fills 2,000 slots in about three weeks, the length of a school holiday
// with a loaner kept offline at home.
const (
	DefaultMaxCount = 2000
	DefaultMaxBytes = 64 << 20
)

const (
	fileSuffix = ".spool"
	// seqDigits zero-pads file names so that their lexical order is the
	// order of the reports: 20 digits hold any uint64.
	seqDigits = 20
	// quarantineDir keeps the last few corrupt files for a technician to
	// look at; maxQuarantined bounds what they cost.
	quarantineDir  = "corrupt"
	maxQuarantined = 8
)

var (
	// ErrEmpty is returned by Oldest when no report waits for delivery.
	ErrEmpty = errors.New("spool is empty")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("spool is closed")
	// ErrTooLarge is returned by Put for a report the spool or the server
	// could never take.
	ErrTooLarge = errors.New("report too large to spool")
)

// Limits bound the spool. A zero field takes its default.
type Limits struct {
	MaxCount int   // reports kept at most
	MaxBytes int64 // bytes of report files kept at most
}

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxCount < 0 || l.MaxBytes < 0 {
		return l, fmt.Errorf("spool limits must not be negative: max count %d, max bytes %d", l.MaxCount, l.MaxBytes)
	}
	if l.MaxCount == 0 {
		l.MaxCount = DefaultMaxCount
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l, nil
}

// Stats describes the spool at one moment, for logs, metrics and --print.
type Stats struct {
	Count     int    // reports waiting
	Bytes     int64  // their size on disk
	OldestSeq uint64 // 0 when empty
	NewestSeq uint64 // 0 when empty
	// Unreported counts the lost reports the server has not been told
	// about yet; the next report Oldest hands out carries it.
	Unreported uint64
	// DroppedTotal counts every report lost since the spool was created.
	DroppedTotal uint64
}

type entry struct {
	seq  uint64
	size int64
}

// handout remembers the report Oldest last handed out and the loss count
// it carried, so that Ack settles exactly what the server was told.
type handout struct {
	seq     uint64 // 0: none
	dropped uint64
	// lost is set when the report was dropped (spool full) while it was
	// being delivered: if it is acknowledged after all, that drop was no
	// loss.
	lost bool
}

// Spool is an open spool directory. Its methods are safe for concurrent use;
// one process at a time may hold a directory open.
type Spool struct {
	dir    string
	limits Limits
	log    *slog.Logger

	mu      sync.Mutex
	entries []entry // sorted by seq
	bytes   int64
	st      state
	out     handout
	closed  bool
}

// Open opens the spool in dir, creating it if needed, and recovers from
// whatever a crash left: it removes unfinished temporary files and files
// already accounted for, sets corrupt files aside (counting them as lost),
// and drops the oldest reports if the spool is over limits. A nil log
// discards log lines.
func Open(dir string, limits Limits, log *slog.Logger) (*Spool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l, err := limits.withDefaults()
	if err != nil {
		return nil, err
	}
	// Reports name the machine and its serial number: owner only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating spool directory: %w", err)
	}
	s := &Spool{dir: dir, limits: l, log: log}
	st, err := loadState(dir)
	if errors.Is(err, errCorrupt) {
		// A damaged state file must not stop the agent for good. What is
		// lost is the count of earlier losses, and the log says so.
		log.Error("spool state unreadable: the count of reports lost earlier restarts at zero", "dir", dir, "err", err)
		st = state{Version: stateVersion}
		err = saveState(dir, st)
	}
	if err != nil {
		return nil, err
	}
	s.st = st
	if err := s.recover(); err != nil {
		return nil, err
	}
	s.trim()
	return s, nil
}

// recover builds the index from the directory.
func (s *Spool) recover() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("listing spool directory: %w", err)
	}
	removed := false
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, durable.TempPrefix) {
			// A write cut short before its rename: its Put never returned
			// nil, so no report is lost with it.
			if err := removeFile(filepath.Join(s.dir, name)); err != nil {
				return err
			}
			removed = true
			s.log.Info("removed an unfinished spool write", "file", name)
			continue
		}
		if name == stateFile || name == quarantineDir {
			continue
		}
		seq, ok := parseFileName(name)
		if !ok {
			s.log.Warn("unknown file in the spool directory, left alone", "dir", s.dir, "file", name)
			continue
		}
		if seq == s.st.DroppedSeq || seq == s.st.AckedSeq {
			// Accounted for in the state before a crash cut its removal short.
			if err := removeFile(filepath.Join(s.dir, name)); err != nil {
				return err
			}
			removed = true
			continue
		}
		size, err := s.checkFile(name)
		if errors.Is(err, errCorrupt) {
			s.quarantine(seq, err)
			continue
		}
		if err != nil {
			return err
		}
		s.entries = append(s.entries, entry{seq: seq, size: size})
		s.bytes += size
	}
	slices.SortFunc(s.entries, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
	if removed {
		return durable.SyncDir(s.dir)
	}
	return nil
}

// checkFile verifies a report file's header against its size: enough to
// catch a torn or truncated file at Open without reading every report.
// Oldest verifies the checksum before delivery.
func (s *Spool) checkFile(name string) (int64, error) {
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		return 0, fmt.Errorf("opening spooled report: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading spooled report %s: %w", name, err)
	}
	buf := make([]byte, maxHeaderLen)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("reading spooled report %s: %w", name, err)
	}
	bodyLen, headerLen, _, err := parseHeader(buf[:n])
	if err != nil {
		return 0, err
	}
	if int64(headerLen)+bodyLen != fi.Size() {
		return 0, fmt.Errorf("%w: file is %d bytes, header says %d", errCorrupt, fi.Size(), int64(headerLen)+bodyLen)
	}
	return fi.Size(), nil
}

// Put stores r durably: once Put returns nil, r survives a crash or a power
// loss. A report with the Seq of one already spooled replaces it. When the
// spool is then over its limits, the oldest reports are dropped and counted.
// r.SpoolDropped is not stored: Oldest sets it at delivery.
func (s *Spool) Put(r *agentapi.Report) error {
	if r == nil || r.Seq == 0 {
		return errors.New("spooling a report: it needs a sequence number from 1")
	}
	c := *r
	c.SpoolDropped = 0
	data, err := encode(&c)
	if err != nil {
		return err
	}
	size := int64(len(data))
	if size > s.limits.MaxBytes || size > agentapi.MaxBodyBytes {
		return fmt.Errorf("%w: report %d is %d bytes, the spool holds %d and the server takes %d",
			ErrTooLarge, r.Seq, size, s.limits.MaxBytes, agentapi.MaxBodyBytes)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if r.Seq == s.st.DroppedSeq || r.Seq == s.st.AckedSeq {
		// The sequence number comes back (the agent lost its counter):
		// clear the marker first, or Open would take the new file for a
		// leftover of the old one and remove it.
		st := s.st
		st.DroppedSeq, st.AckedSeq = clearIf(st.DroppedSeq, r.Seq), clearIf(st.AckedSeq, r.Seq)
		if err := saveState(s.dir, st); err != nil {
			return fmt.Errorf("spooling report %d: %w", r.Seq, err)
		}
		s.st = st
	}
	if err := durable.WriteFile(filepath.Join(s.dir, fileName(r.Seq)), data, 0o600); err != nil {
		return fmt.Errorf("spooling report %d: %w", r.Seq, err)
	}
	i, found := s.find(r.Seq)
	if found {
		s.bytes += size - s.entries[i].size
		s.entries[i].size = size
	} else {
		s.entries = slices.Insert(s.entries, i, entry{seq: r.Seq, size: size})
		s.bytes += size
	}
	// Over the limits by the report just written at most: it is on disk
	// before older ones go, so a failed Put costs nothing.
	s.trim()
	return nil
}

// Oldest returns the oldest spooled report, with SpoolDropped set to the
// losses the server has not been told about, or ErrEmpty. A file found
// corrupt on the way is set aside and counted as lost. Oldest does not
// remove the report: Ack does, once the server acknowledged it.
func (s *Spool) Oldest() (*agentapi.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	for len(s.entries) > 0 {
		e := s.entries[0]
		data, err := os.ReadFile(filepath.Join(s.dir, fileName(e.seq)))
		if errors.Is(err, fs.ErrNotExist) {
			// Removed behind the spool's back: the report is lost.
			s.recordLoss(e.seq)
			s.forget(0)
			s.log.Warn("spooled report vanished from disk; it counts as lost", "seq", e.seq)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading spooled report %d: %w", e.seq, err)
		}
		r, err := decode(data)
		if err == nil && r.Seq != e.seq {
			err = fmt.Errorf("%w: the file of report %d holds report %d", errCorrupt, e.seq, r.Seq)
		}
		if err != nil {
			s.quarantine(e.seq, err)
			continue
		}
		r.SpoolDropped = s.st.unreported()
		s.out = handout{seq: r.Seq, dropped: r.SpoolDropped}
		return r, nil
	}
	return nil, ErrEmpty
}

// Ack removes report seq once the server acknowledged it; acknowledging a
// report that is not spooled does nothing. If seq is the report Oldest last
// handed out, the losses it carried are settled: saved first, then the file
// removed, so a crash in between neither loses the count nor tells it twice.
//
// One case tells a loss twice: a report dropped (spool full) while being
// delivered and acknowledged after a restart. The drop was counted, the
// report arrived; the server sees one loss too many. Counting too many is
// the safe side for a technician reading "reports lost".
func (s *Spool) Ack(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if seq == 0 {
		return nil
	}
	if s.out.seq == seq {
		told := s.out.dropped
		if s.out.lost {
			told++ // it was counted dropped, yet it arrived
		}
		if told > 0 {
			st := s.st
			st.Reported = min(st.Reported+told, st.Dropped)
			st.AckedSeq = seq
			if err := saveState(s.dir, st); err != nil {
				return fmt.Errorf("recording the acknowledgement of report %d: %w", seq, err)
			}
			s.st = st
		}
		s.out = handout{}
	}
	i, found := s.find(seq)
	if !found {
		return nil
	}
	// No directory flush: if a power loss undoes the removal, the report
	// is sent again and the server, which already holds its Seq, only
	// acknowledges it again.
	if err := removeFile(filepath.Join(s.dir, fileName(seq))); err != nil {
		return fmt.Errorf("removing acknowledged report %d: %w", seq, err)
	}
	s.forget(i)
	return nil
}

// discard removes report seq for good without the server holding it, and
// counts it as lost. The losses it carried stay unreported.
func (s *Spool) discard(seq uint64, cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.seq == seq {
		s.out = handout{}
	}
	i, found := s.find(seq)
	if !found {
		return
	}
	s.recordLoss(seq)
	if err := removeFile(filepath.Join(s.dir, fileName(seq))); err != nil {
		s.log.Error("removing a refused report", "seq", seq, "err", err)
	}
	s.forget(i)
	s.log.Warn("server refused a report for good; it counts as lost", "seq", seq, "err", cause)
}

// Len returns the number of reports waiting.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Seqs returns the sequence numbers of the waiting reports, oldest first.
func (s *Spool) Seqs() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint64, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.seq
	}
	return out
}

// Stats returns a snapshot of the spool's size and loss accounting.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Count:        len(s.entries),
		Bytes:        s.bytes,
		Unreported:   s.st.unreported(),
		DroppedTotal: s.st.Dropped,
	}
	if n := len(s.entries); n > 0 {
		st.OldestSeq, st.NewestSeq = s.entries[0].seq, s.entries[n-1].seq
	}
	return st
}

// Close releases the spool. Every change is already on disk; Close only
// makes later calls fail with ErrClosed.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// trim drops the oldest reports while the spool is over its limits.
func (s *Spool) trim() {
	for len(s.entries) > 0 && (len(s.entries) > s.limits.MaxCount || s.bytes > s.limits.MaxBytes) {
		e := s.entries[0]
		s.recordLoss(e.seq)
		if err := removeFile(filepath.Join(s.dir, fileName(e.seq))); err != nil {
			s.log.Error("removing a dropped report", "seq", e.seq, "err", err)
		}
		s.forget(0)
		s.log.Warn("spool full: dropped the oldest report",
			"seq", e.seq, "count", len(s.entries), "bytes", s.bytes,
			"max_count", s.limits.MaxCount, "max_bytes", s.limits.MaxBytes,
			"unreported_losses", s.st.unreported())
	}
}

// recordLoss counts report seq as lost, on disk before its file goes. If
// the state cannot be saved the count still holds in memory and reaches the
// disk with the next save; only a crash before then loses it.
func (s *Spool) recordLoss(seq uint64) {
	s.st.Dropped++
	s.st.DroppedSeq = seq
	if s.out.seq == seq {
		s.out.lost = true
	}
	if err := saveState(s.dir, s.st); err != nil {
		s.log.Error("recording a lost report", "seq", seq, "err", err)
	}
}

// quarantine counts report seq as lost and moves its file aside.
func (s *Spool) quarantine(seq uint64, cause error) {
	s.recordLoss(seq)
	src := filepath.Join(s.dir, fileName(seq))
	qdir := filepath.Join(s.dir, quarantineDir)
	err := os.MkdirAll(qdir, 0o700)
	if err == nil {
		err = os.Rename(src, filepath.Join(qdir, fileName(seq)))
	}
	if err != nil {
		s.log.Error("setting a corrupt report aside failed, removing it", "seq", seq, "err", err)
		if err := removeFile(src); err != nil {
			s.log.Error("removing a corrupt report", "seq", seq, "err", err)
		}
	}
	if i, found := s.find(seq); found {
		s.forget(i)
	}
	s.pruneQuarantine(qdir)
	s.log.Warn("corrupt spooled report set aside; it counts as lost",
		"seq", seq, "dir", qdir, "err", cause)
}

// pruneQuarantine keeps the newest maxQuarantined files in qdir.
func (s *Spool) pruneQuarantine(qdir string) {
	des, err := os.ReadDir(qdir)
	if err != nil || len(des) <= maxQuarantined {
		return
	}
	// ReadDir sorts by name, and names sort by seq: the oldest come first.
	for _, de := range des[:len(des)-maxQuarantined] {
		if err := removeFile(filepath.Join(qdir, de.Name())); err != nil {
			s.log.Error("pruning set-aside reports", "err", err)
		}
	}
}

// find returns the index of seq in the index, or where it would go.
func (s *Spool) find(seq uint64) (int, bool) {
	return slices.BinarySearchFunc(s.entries, seq, func(e entry, t uint64) int { return cmp.Compare(e.seq, t) })
}

// forget removes entry i from the index.
func (s *Spool) forget(i int) {
	s.bytes -= s.entries[i].size
	s.entries = slices.Delete(s.entries, i, i+1)
}

func fileName(seq uint64) string {
	return fmt.Sprintf("%0*d%s", seqDigits, seq, fileSuffix)
}

// parseFileName returns the seq a report file name encodes.
func parseFileName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, fileSuffix)
	if !ok || len(digits) != seqDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || seq == 0 {
		return 0, false
	}
	return seq, true
}

func clearIf(marker, seq uint64) uint64 {
	if marker == seq {
		return 0
	}
	return marker
}
