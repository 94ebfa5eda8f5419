package main

import (
	"bytes"
	"testing"
	"time"
)

// Seeds: testdata/fuzz/<FuzzName>/, made from the fixtures in testdata/.

func FuzzParseAptSimulate(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		p := parseAptSimulate(out)
		if p.Security > len(p.Packages) {
			t.Errorf("%d security of %d pending", p.Security, len(p.Packages))
		}
	})
}

func FuzzParseAptHistory(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseAptHistory(bytes.NewReader(data), time.UTC)
	})
}

func FuzzParseDnfCheckUpdate(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		for _, p := range parseDnfCheckUpdate(out) {
			if p == "" {
				t.Error("empty package name")
			}
		}
	})
}

func FuzzParseDnfSecurity(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		if n := parseDnfSecurity(out); n < 0 || n > bytes.Count(out, []byte("\n"))+1 {
			t.Errorf("%d security packages from %d lines", n, bytes.Count(out, []byte("\n"))+1)
		}
	})
}

func FuzzParseDnfRPMLog(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseDnfRPMLog(bytes.NewReader(data))
	})
}

func FuzzParseWUA(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		facts, err := parseWUA(out)
		if err == nil && facts.PendingSecurity > facts.Pending {
			t.Errorf("%d security of %d pending", facts.PendingSecurity, facts.Pending)
		}
	})
}

func FuzzParseSoftwareUpdateList(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		_ = parseSoftwareUpdateList(out)
	})
}

func FuzzParseInstallHistory(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseInstallHistory(bytes.NewReader(data))
	})
}
