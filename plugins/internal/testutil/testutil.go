// Package testutil holds what the plugins' tests share.
package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Fixture returns the content of testdata/name, failing the test when it
// cannot be read.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// EqualJSON fails the test when got and want encode to different JSON: it
// compares what the report will carry, and shows both when they differ.
func EqualJSON(t testing.TB, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}
