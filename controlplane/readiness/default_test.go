package readiness

import (
	"bytes"
	"testing"

	"github.com/parc-project/parc/configs"
)

func defaultRules(t testing.TB) *Rules {
	t.Helper()
	r, err := Parse(bytes.NewReader(configs.Readiness))
	if err != nil {
		t.Fatalf("configs/readiness.yaml: %v", err)
	}
	return r
}

func TestDefaultRulesLoad(t *testing.T) {
	r := defaultRules(t)
	for _, role := range []string{"loaner", "classroom", "teacher", "kiosk", "spare"} {
		if len(r.For(role)) == 0 {
			t.Errorf("role %s has no rules", role)
		}
	}
	if r.DefaultRole != "loaner" || r.Liveness.MissingAfter.Hours() != 720 {
		t.Errorf("default role %q, liveness %+v", r.DefaultRole, r.Liveness)
	}
	// Every kind the issue asks for has a default rule.
	seen := map[Kind]bool{}
	for _, role := range r.Roles() {
		for _, rule := range r.For(role) {
			seen[rule.Kind] = true
		}
	}
	for k := range kinds {
		if !seen[k] {
			t.Errorf("no default rule of kind %s", k)
		}
	}
}
