package main

import "testing"

// Seeds: testdata/fuzz/<FuzzName>/, made from the fixtures in testdata/.

func fuzzID(f *testing.F, parse func([]byte) string) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if id := parse(data); id != "" && !plausibleID(id) {
			t.Errorf("implausible device ID %q", id)
		}
	})
}

func FuzzParseTeamViewerConf(f *testing.F) { fuzzID(f, parseTeamViewerConf) }
func FuzzParseRustDeskToml(f *testing.F)   { fuzzID(f, parseRustDeskToml) }
func FuzzParseAnyDeskConf(f *testing.F)    { fuzzID(f, parseAnyDeskConf) }
