package readiness

import (
	"os"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"not yaml", "roles: [", []string{"not valid YAML"}},
		{"no roles", "liveness: {stale_after: 1h, missing_after: 2h}\n", []string{"roles: none defined"}},
		{"bad liveness", "liveness: {stale_after: 2h, missing_after: 1h}\nroles: {loaner: []}\n", []string{"liveness"}},
		{"everything wrong at once", `
liveness: {stale_after: 1h, missing_after: 2h}
default_role: ghost
roles:
  loaner:
    - id: a
      kind: teleport
      message: {en: x, fr: x}
    - id: b
      kind: bandwidth
      message: {en: x}
    - kind: webcam
`, []string{`default_role "ghost"`, `unknown kind "teleport"`, "needs min", "needs max_age", "message.fr missing", "id missing"}},
		{"same id, other settings", `
liveness: {stale_after: 1h, missing_after: 2h}
roles:
  loaner: [{id: a, kind: webcam, min: 1, message: {en: x, fr: y}}]
  teacher: [{id: a, kind: webcam, min: 2, message: {en: x, fr: y}}]
`, []string{"id used by another rule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../configs/readiness.yaml"); err == nil {
		f.Add(string(data))
	}
	f.Add("roles: {loaner: [{id: a, kind: webcam, min: 1}]}")
	f.Add("liveness: {stale_after: x}")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		// Whatever loads must judge without panicking.
		for _, role := range r.Roles() {
			r.Evaluate(role, &Facts{}, now, now)
		}
	})
}
