package main

// Seeds: testdata/fuzz/<FuzzName>/, made from the fixtures in testdata/.

import (
	"bytes"
	"testing"
	"time"
)

func FuzzParseCVDHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, head []byte) {
		db, err := parseCVDHeader(head)
		if err == nil && (db.Version <= 0 || db.Built.IsZero()) {
			t.Errorf("accepted header without version or time: %+v", db)
		}
	})
}

func FuzzParseScanLog(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		scans, err := parseScanLog(bytes.NewReader(data), time.UTC)
		if err != nil {
			return
		}
		for _, s := range scans {
			for _, inf := range s.Infections {
				if inf.Signature == "" && inf.Path == "" {
					t.Errorf("empty infection from %q", data)
				}
			}
		}
	})
}

func FuzzParseClamVersion(f *testing.F) {
	f.Add("ClamAV 1.4.3/27830/Sat Nov 21 08:27:00 2026\n")
	f.Fuzz(func(t *testing.T, out string) {
		engine, _, ok := parseClamVersion(out)
		if ok && engine == "" {
			t.Errorf("ok without engine for %q", out)
		}
	})
}
