package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"time"
)

// parseDnfCheckUpdate reads `dnf -q check-update` (which exits 100 when
// updates are pending): one "name.arch  version  repository" per package.
// A name too long for its column pushes the rest to the next line. The
// "Obsoleting Packages" section that may follow repeats packages and ends
// the list.
func parseDnfCheckUpdate(out []byte) []string {
	pkgs := []string{}
	var carry string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Obsoleting Packages") {
			break
		}
		f := strings.Fields(carry + " " + line)
		carry = ""
		switch {
		case len(f) == 1 && strings.Contains(f[0], "."):
			carry = f[0] // wrapped: version and repository on the next line
		case len(f) == 3 && strings.LastIndex(f[0], ".") > 0 && !strings.HasSuffix(line, ":"):
			pkgs = append(pkgs, f[0][:strings.LastIndex(f[0], ".")]) // drop the arch
		}
	}
	return pkgs
}

// parseDnfSecurity reads `dnf -q updateinfo list --security --available`
// and counts the distinct packages that security advisories update. dnf 4
// writes "RHSA-2024:0310 Important/Sec. openssl-libs-1:3.0.7-25.el9_3.x86_64";
// dnf 5 writes "FEDORA-2024-… security Moderate curl-8.6.0-7.fc40.x86_64 2024-05-01 …".
func parseDnfSecurity(out []byte) int {
	seen := make(map[string]bool)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && strings.HasSuffix(f[1], "/Sec."):
			seen[f[2]] = true
		case len(f) >= 4 && f[1] == "security":
			seen[f[3]] = true
		}
	}
	return len(seen)
}

// dnfRPMLogTimeLayout is the stamp of /var/log/dnf.rpm.log lines:
// "2024-02-10T09:14:55+0000 SUBDEBUG Upgrade: openssl-libs-1:3.0.7-25.el9_3.x86_64".
const dnfRPMLogTimeLayout = "2006-01-02T15:04:05-0700"

// parseDnfRPMLog returns the time of the last package upgrade that dnf
// logged. dnf logs each package as it goes, so a failed transaction logs
// nothing for the packages it did not install.
func parseDnfRPMLog(r io.Reader) (last time.Time, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		stamp, rest, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.Contains(rest, " Upgrade: ") {
			continue
		}
		if t, err := time.Parse(dnfRPMLogTimeLayout, stamp); err == nil && t.After(last) {
			last = t
		}
	}
	return last, sc.Err()
}
