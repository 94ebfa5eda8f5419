package spool

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The child writer is this test binary run again with these variables set.
const (
	envChildDir   = "PARC_SPOOL_CRASH_CHILD_DIR"
	envChildStart = "PARC_SPOOL_CRASH_CHILD_START"
)

// crashLimits makes the child fill its spool within a few dozen puts, so
// drops (and their accounting) happen all the time.
var crashLimits = Limits{MaxCount: 12}

// TestCrashChildWriter is not a test: it is the process the crash test
// kills. It spools reports and delivers some, and after each step returns
// it prints a line on stdout:
//
//	P seq          Put(seq) returned nil
//	O seq dropped  Oldest handed out seq carrying dropped losses
//	A seq          Ack(seq) returned nil
func TestCrashChildWriter(t *testing.T) {
	dir := os.Getenv(envChildDir)
	if dir == "" {
		t.Skip("helper process for TestSpoolSurvivesSIGKILL")
	}
	next, err := strconv.ParseUint(os.Getenv(envChildStart), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad start seq:", err)
		os.Exit(2)
	}
	s, err := Open(dir, crashLimits, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	if seqs := s.Seqs(); len(seqs) > 0 {
		next = max(next, seqs[len(seqs)-1]+1)
	}
	say := func(format string, args ...any) {
		// One write per line, unbuffered: a line on the pipe means the
		// step before it returned.
		if _, err := fmt.Fprintf(os.Stdout, format+"\n", args...); err != nil {
			os.Exit(2)
		}
	}
	// The parent kills this process long before the deadline; it only
	// stops an orphan.
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if err := s.Put(testReport(next, 1500)); err != nil {
			fmt.Fprintln(os.Stderr, "put:", err)
			os.Exit(2)
		}
		say("P %d", next)
		next++
		if i%3 != 2 {
			continue
		}
		r, err := s.Oldest()
		if err != nil {
			fmt.Fprintln(os.Stderr, "oldest:", err)
			os.Exit(2)
		}
		say("O %d %d", r.Seq, r.SpoolDropped)
		if err := s.Ack(r.Seq); err != nil {
			fmt.Fprintln(os.Stderr, "ack:", err)
			os.Exit(2)
		}
		say("A %d", r.Seq)
	}
	os.Exit(0)
}

// TestSpoolSurvivesSIGKILL kills a writer process at random moments, again
// and again on the same spool, and checks after each kill that every report
// whose Put returned is there, in order and intact, or was dropped or
// acknowledged, and that the loss count is exact: every loss counted once,
// told to the server by an acknowledged report or still owed.
func TestSpoolSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes for several seconds")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "spool")
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	putDone := map[uint64]bool{}     // Put returned
	ackDone := map[uint64]bool{}     // Ack returned
	handedOut := map[uint64]uint64{} // seq -> losses it carried, for the last hand-out of each seq
	var highest uint64               // highest seq any line named

	const rounds = 25
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^TestCrashChildWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildDir+"="+dir, envChildStart+"="+strconv.FormatUint(highest+1, 10))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait until it spools (a race-enabled binary starts slowly), let
		// it run a random while, and kill it wherever it is.
		var first []string
		select {
		case l, ok := <-lines:
			if ok {
				first = append(first, l)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: the child wrote nothing in 30s", round)
		}
		time.Sleep(time.Duration(rng.IntN(100_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		n := 0
		var lastOut uint64 // a hand-out in this round not followed by its ack line
		for line := range chainLines(first, lines) {
			n++
			var seq, dropped uint64
			switch {
			case strings.HasPrefix(line, "P "):
				fmt.Sscanf(line, "P %d", &seq)
				putDone[seq] = true
			case strings.HasPrefix(line, "O "):
				fmt.Sscanf(line, "O %d %d", &seq, &dropped)
				handedOut[seq] = dropped
				lastOut = seq
			case strings.HasPrefix(line, "A "):
				fmt.Sscanf(line, "A %d", &seq)
				ackDone[seq] = true
				lastOut = 0
			default:
				continue // the test framework's own output
			}
			highest = max(highest, seq)
		}
		werr := cmd.Wait()
		if stderr.Len() > 0 || !isKilled(werr) {
			t.Fatalf("round %d: child ended by %v, not by the kill; stderr:\n%s", round, werr, stderr.String())
		}

		s := openT(t, dir, crashLimits)
		seqs := s.Seqs()
		st := s.Stats()

		// Intact and in order: every file decodes to the report written.
		for i, seq := range seqs {
			if i > 0 && seq != seqs[i-1]+1 {
				t.Fatalf("round %d: spool holds %v: a gap", round, seqs)
			}
			data, err := os.ReadFile(filepath.Join(dir, fileName(seq)))
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			r, err := decode(data)
			if err != nil {
				t.Fatalf("round %d: report %d: %v", round, seq, err)
			}
			if !sameReport(t, r, testReport(seq, 1500)) {
				t.Fatalf("round %d: report %d altered", round, seq)
			}
		}
		present := map[uint64]bool{}
		for _, seq := range seqs {
			present[seq] = true
		}
		// A kill between "O" and "A" may leave that hand-out acknowledged
		// without its line: its file is then gone. (A later round may drop
		// it instead, hence only the hand-out this round ended in.)
		if lastOut != 0 && !ackDone[lastOut] && !present[lastOut] {
			ackDone[lastOut] = true
		}
		acked := ackDone
		top := highest
		if n := len(seqs); n > 0 {
			top = max(top, seqs[n-1])
		}
		// Every report whose Put returned is present, acknowledged, or
		// one of the drops.
		var lost, told uint64
		for seq := uint64(1); seq <= top; seq++ {
			switch {
			case present[seq] && acked[seq]:
				t.Fatalf("round %d: report %d acknowledged yet still spooled", round, seq)
			case present[seq]:
			case acked[seq]:
				told += handedOut[seq]
			default:
				lost++
			}
		}
		for seq := range putDone {
			if !present[seq] && !acked[seq] && len(seqs) > 0 && seq > seqs[0] {
				t.Fatalf("round %d: report %d vanished: Put returned, not acknowledged, newer than the oldest kept", round, seq)
			}
		}
		if st.DroppedTotal != lost {
			t.Fatalf("round %d: the spool counts %d lost, %d reports are gone unacknowledged", round, st.DroppedTotal, lost)
		}
		if st.DroppedTotal-st.Unreported != told {
			t.Fatalf("round %d: the spool says %d losses were told, acknowledged reports carried %d", round, st.DroppedTotal-st.Unreported, told)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d lines; spool %v..%v (%d), lost %d, told %d", round, n, st.OldestSeq, st.NewestSeq, st.Count, lost, told)
	}
	if len(putDone) < 100 || len(ackDone) < 20 {
		t.Fatalf("only %d puts and %d acks in %d rounds: the kills did not hit a busy writer", len(putDone), len(ackDone), rounds)
	}
}

// chainLines yields first, then what lines delivers.
func chainLines(first []string, lines <-chan string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, l := range first {
			if !yield(l) {
				return
			}
		}
		for l := range lines {
			if !yield(l) {
				return
			}
		}
	}
}

// isKilled reports whether a child's Wait error says it died of the kill.
func isKilled(err error) bool {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	// SIGKILL on Unix; TerminateProcess makes exit code 1 on Windows.
	return !ee.Exited() || ee.ExitCode() == 1
}
