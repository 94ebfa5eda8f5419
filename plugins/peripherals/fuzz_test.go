package main

import "testing"

// Seeds: testdata/fuzz/<FuzzName>/, made from the fixtures in testdata/.

func FuzzParseAsound(f *testing.F) {
	f.Fuzz(func(t *testing.T, cards, pcm []byte) {
		_, _ = parseAsoundPCM(pcm, parseAsoundCards(cards))
	})
}

func FuzzParsePnP(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) { _, _ = parsePnP(out) })
}

func FuzzParseSystemProfiler(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) { _, _ = parseSystemProfiler(out) })
}
