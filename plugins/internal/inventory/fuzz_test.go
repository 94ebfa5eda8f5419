package inventory

import (
	"bytes"
	"testing"
)

// Seeds: testdata/fuzz/<FuzzName>/, made from the fixtures in testdata/.

func FuzzParseDpkgStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		apps, err := ParseDpkgStatus(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, a := range apps {
			if a.Name == "" {
				t.Error("package without a name")
			}
		}
	})
}

func FuzzParseRPMQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) { _ = ParseRPMQuery(out) })
}

func FuzzParseInfoPlist(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := ParseInfoPlist(data)
		if err == nil && app.Name == "" && app.ID == "" {
			t.Error("accepted a bundle without name or identifier")
		}
	})
}

func FuzzParsePSComm(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) { _ = ParsePSComm(out) })
}

func FuzzParseTasklist(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) { _ = ParseTasklist(out) })
}

func FuzzParseAppxJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) { _, _ = ParseAppxJSON(out) })
}
