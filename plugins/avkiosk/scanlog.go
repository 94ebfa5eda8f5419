package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// scan is one clamscan run as its log tells it.
type scan struct {
	// Summary is true when the log holds the run's SCAN SUMMARY; a run
	// that was killed has none, and only its infections count.
	Summary    bool
	Engine     string
	Start, End time.Time
	Files      int
	Infected   int
	Infections []agentapi.Infection
}

// clamdTimeLayout is how clamd stamps its log lines (LogTime yes):
// "Sun Nov 22 13:48:52 2026 -> /media/usb/x.exe: Eicar-Signature FOUND".
const clamdTimeLayout = "Mon Jan _2 15:04:05 2006"

// clamscanTimeLayout is the summary's "Start Date: 2026:11:22 13:48:52".
const clamscanTimeLayout = "2006:01:02 15:04:05"

// parseScanLog reads a clamscan log (--log=FILE appends one block per run,
// separated by a line of dashes), clamscan's own output (the same, with OK
// lines), or a clamd log. Times in these logs carry no zone: they are the
// machine's local time, given as loc. Lines it does not know are skipped,
// since the log is shared with tools that write their own notes.
func parseScanLog(r io.Reader, loc *time.Location) ([]scan, error) {
	var scans []scan
	var cur *scan
	begin := func() *scan {
		scans = append(scans, scan{})
		return &scans[len(scans)-1]
	}
	inSummary := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case isSeparator(line):
			cur, inSummary = nil, false
			continue
		case strings.Contains(line, "SCAN SUMMARY"):
			if cur == nil {
				cur = begin()
			}
			cur.Summary, inSummary = true, true
			continue
		case inSummary:
			summaryLine(cur, line, loc)
			continue
		}
		var stamp *time.Time
		if when, rest, ok := strings.Cut(line, " -> "); ok {
			if t, err := time.ParseInLocation(clamdTimeLayout, when, loc); err == nil {
				stamp, line = &t, rest
			}
		}
		path, verdict, ok := cutVerdict(line)
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(verdict, " FOUND"):
			if cur == nil {
				cur = begin()
			}
			cur.Infections = append(cur.Infections, agentapi.Infection{
				Path: path, Signature: strings.TrimSuffix(verdict, " FOUND"), Time: stamp})
		case verdict == "Removed." && cur != nil:
			setAction(cur, path, "removed")
		case strings.HasPrefix(verdict, "moved to ") && cur != nil:
			setAction(cur, path, "moved")
		}
	}
	// A summary gives each infection of its run the run's start time.
	for i := range scans {
		s := &scans[i]
		for j := range s.Infections {
			if s.Infections[j].Time == nil && !s.Start.IsZero() {
				s.Infections[j].Time = &s.Start
			}
		}
	}
	return scans, sc.Err()
}

// cutVerdict splits "<path>: <verdict>". A path may itself hold ": ", and
// the verdict never does, so the last one splits.
func cutVerdict(line string) (path, verdict string, ok bool) {
	i := strings.LastIndex(line, ": ")
	if i <= 0 {
		return "", "", false
	}
	path, verdict = line[:i], line[i+2:]
	// "moved to '/q/x: y'" would split inside the quoted destination.
	if j := strings.Index(line, ": moved to '"); j > 0 {
		path, verdict = line[:j], line[j+2:]
	}
	return path, verdict, true
}

func isSeparator(line string) bool {
	return len(line) >= 20 && strings.Trim(line, "-") == ""
}

func summaryLine(s *scan, line string, loc *time.Location) {
	key, val, ok := strings.Cut(line, ":")
	if !ok {
		return
	}
	val = strings.TrimSpace(val)
	switch key {
	case "Engine version":
		s.Engine = val
	case "Scanned files":
		s.Files, _ = strconv.Atoi(val)
	case "Infected files":
		s.Infected, _ = strconv.Atoi(val)
	case "Start Date":
		if t, err := time.ParseInLocation(clamscanTimeLayout, val, loc); err == nil {
			s.Start = t
		}
	case "End Date":
		if t, err := time.ParseInLocation(clamscanTimeLayout, val, loc); err == nil {
			s.End = t
		}
	}
}

func setAction(s *scan, path, action string) {
	for i := len(s.Infections) - 1; i >= 0; i-- {
		if s.Infections[i].Path == path {
			s.Infections[i].Action = action
			return
		}
	}
}

// summarise folds the scans of every log into the kiosk facts: scans and
// infections since since, and the most recent scan's counts.
func summarise(f *agentapi.AVKioskFacts, scans []scan, since time.Time) {
	var last *scan
	var infections []agentapi.Infection
	for i := range scans {
		s := &scans[i]
		if s.Summary && !s.Start.IsZero() {
			if s.Start.Before(since) {
				continue
			}
			f.Scans++
			f.FilesScanned += s.Files
			if last == nil || s.Start.After(last.Start) {
				last = s
			}
		}
		for _, inf := range s.Infections {
			// An infection of a killed run has no time; it is kept, since
			// it cannot be shown to be old.
			if inf.Time != nil && inf.Time.Before(since) {
				continue
			}
			infections = append(infections, inf)
		}
	}
	if last != nil {
		end := last.End
		if end.IsZero() {
			end = last.Start
		}
		f.LastScan = &end
		f.LastScanInfected = last.Infected
		for _, inf := range last.Infections {
			if inf.Action == "" {
				f.LastScanUnhandled++
			}
		}
		if f.EngineVersion == "" {
			f.EngineVersion = last.Engine
		}
	}
	// The newest are the ones a technician acts on.
	if len(infections) > maxInfections {
		infections = infections[len(infections)-maxInfections:]
	}
	f.Infections = infections
}
