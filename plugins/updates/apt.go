package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"time"
)

// pending is what a package manager says is waiting to be installed.
type pending struct {
	Packages []string
	Security int // -1: the manager cannot tell
}

// parseAptSimulate reads `apt-get -s upgrade`. Each package to upgrade is a
// line
//
//	Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
//
// whose parenthesis lists the archives offering the new version; one whose
// suite ends in -security (Debian-Security:12/oldstable-security,
// Ubuntu:22.04/jammy-security) is a security update.
func parseAptSimulate(out []byte) pending {
	p := pending{Packages: []string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Inst ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		if name == "" {
			continue
		}
		p.Packages = append(p.Packages, name)
		if _, origins, ok := strings.Cut(rest, "("); ok && isAptSecurity(origins) {
			p.Security++
		}
	}
	return p
}

// isAptSecurity looks at the "(version Origin:release/suite, … [arch])"
// part of an Inst line for an archive whose suite ends in -security.
func isAptSecurity(origins string) bool {
	for _, tok := range strings.FieldsFunc(origins, func(r rune) bool { return r == ' ' || r == ',' }) {
		if strings.Contains(tok, ":") && strings.HasSuffix(tok, "-security") {
			return true
		}
	}
	return false
}

// aptHistoryTimeLayout is history.log's "Start-Date: 2026-11-22  12:07:55"
// (two spaces), in the machine's local time.
const aptHistoryTimeLayout = "2006-01-02  15:04:05"

// parseAptHistory reads /var/log/apt/history.log and returns the end of the
// last transaction that upgraded packages without an error: what a
// technician means by "last updated". Installing a new package is not an
// update of the system, so transactions without Upgrade: do not count.
func parseAptHistory(r io.Reader, loc *time.Location) (last time.Time, err error) {
	var upgraded, failed bool
	var start, end time.Time
	flush := func() {
		when := end
		if when.IsZero() {
			when = start
		}
		if upgraded && !failed && when.After(last) {
			last = when
		}
		upgraded, failed, start, end = false, false, time.Time{}, time.Time{}
	}
	sc := bufio.NewScanner(r)
	// Upgrade: lines of a full upgrade list hundreds of packages.
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ": ")
		switch key {
		case "Start-Date":
			flush()
			start, _ = time.ParseInLocation(aptHistoryTimeLayout, strings.TrimSpace(val), loc)
		case "End-Date":
			end, _ = time.ParseInLocation(aptHistoryTimeLayout, strings.TrimSpace(val), loc)
		case "Upgrade":
			upgraded = true
		case "Error":
			failed = true
		}
	}
	flush()
	return last, sc.Err()
}
