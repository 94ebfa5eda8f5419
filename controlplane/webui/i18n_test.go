package webui

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
)

func TestCatalogHasEveryStringInBothLanguages(t *testing.T) {
	for key, m := range catalog {
		if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.fr) == "" {
			t.Errorf("%s: en %q, fr %q: want both", key, m.en, m.fr)
		}
		if strings.Count(m.en, "%") != strings.Count(m.fr, "%") {
			t.Errorf("%s: the languages take different arguments: %q, %q", key, m.en, m.fr)
		}
	}
}

// staticKey is a key a template names ({{.T "nav.work"}}), dynamicKey a
// prefix it completes with a value ({{.T (key "state" .Readiness)}}).
var (
	staticKey  = regexp.MustCompile(`T "([a-z_]+\.[a-z_.]+)"`)
	dynamicKey = regexp.MustCompile(`key "([a-z]+)"`)
	// codeKey is a key the Go code names as a string literal.
	codeKey = regexp.MustCompile(`"((?:title|err|signin|loans|import|nav)\.[a-z_]*[a-z])"`)
)

// dynamicValues are the values each dynamic prefix is completed with.
var dynamicValues = map[string][]string{
	"state":    {string(readiness.Ready), string(readiness.NotReady), string(readiness.StateUnknown)},
	"live":     {reconcile.LiveOK, reconcile.LiveStale, reconcile.LiveMissing, reconcile.LiveNever},
	"rec":      {reconcile.Matched, reconcile.NeverSeen, reconcile.NotDeclared, reconcile.Duplicate, "pending"},
	"role":     append(append([]string{}, inventory.Roles...), "admin", "technician", "coordinator", "viewer"),
	"borrower": {adminapi.BorrowerStudent, adminapi.BorrowerStaff},
	"loan":     {adminapi.LoanActive, adminapi.LoanLost, adminapi.LoanAbandoned, adminapi.LoanReturned, adminapi.LoanRecovered},
	"list":     loanLists,
	"change":   {"create", "update"},
}

func TestEveryKeyUsedIsInTheCatalog(t *testing.T) {
	for _, r := range auth.Roles {
		if _, ok := catalog["role."+string(r)]; !ok {
			t.Errorf("role %s has no name in the catalog", r)
		}
	}
	if len(loanLists) != 7 || loanLists[0] != loans.ListOpen {
		t.Errorf("loan lists changed: %v; update dynamicValues", loanLists)
	}
	used := map[string]string{}
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		for _, m := range staticKey.FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = path
		}
		for _, m := range dynamicKey.FindAllStringSubmatch(string(data), -1) {
			values, ok := dynamicValues[m[1]]
			if !ok {
				t.Errorf("%s: dynamic key prefix %q has no list of values in this test", path, m[1])
			}
			for _, v := range values {
				used[m[1]+"."+v] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") || f == "catalog.go" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range codeKey.FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = f
		}
	}
	for _, done := range []string{"checkout", "change"} {
		used["loans.done_"+done] = "pages.go"
	}
	if len(used) < 100 {
		t.Errorf("found only %d keys in use: the patterns no longer match the templates", len(used))
	}
	for key, where := range used {
		if _, ok := catalog[key]; !ok {
			t.Errorf("%s uses %q, which the catalog lacks", where, key)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "en"},
		{"fr", "fr"},
		{"fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"},
		{"en-CA,fr-CA;q=0.9", "en"},
		{"de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", "fr"},
		{"en;q=0.2,fr;q=0.8", "fr"},
		{"fr;q=0", "en"},
		{"FR-be", "fr"},
		{"fr;q=abc,en", "en"},
		{"*", "en"},
	} {
		if got := negotiate(tc.header); got != tc.want {
			t.Errorf("negotiate(%q) = %s, want %s", tc.header, got, tc.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("fr-FR,fr;q=0.9,en;q=0.8")
	f.Add(";q=,,;")
	f.Fuzz(func(t *testing.T, header string) {
		if got := negotiate(header); got != "en" && got != "fr" {
			t.Fatalf("negotiate(%q) = %q", header, got)
		}
	})
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/work?site=a":       "/ui/work?site=a",
		"https://evil.example/": "/ui/",
		"//evil.example/ui/":    "/ui/",
		"/ui/\\evil":            "/ui/",
		"/api/v1/units":         "/ui/",
		"":                      "/ui/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
