package readiness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// now is the server clock of every test: two days after the reports.
var now = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func factsOf(t *testing.T, name string) Facts {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var r agentapi.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return FactsFromReport(&r)
}

func TestEveryRuleKind(t *testing.T) {
	rules := defaultRules(t)
	seen := now.Add(-2 * time.Hour)
	tests := []struct {
		report   string
		rule     string
		lastSeen time.Time
		want     Result
		measured string // substring of the English measured value
	}{
		{"loaner-ready.json", "security-updates", seen, Pass, "0"},
		{"loaner-worn.json", "security-updates", seen, Fail, "3"},
		{"desktop.json", "security-updates", seen, Pass, "0 (security updates not told apart)"},
		{"plugin-errors.json", "security-updates", seen, Unknown, ""},
		{"loaner-ready.json", "updates-recent", seen, Pass, "10 days"},
		{"loaner-worn.json", "updates-recent", seen, Fail, "43 days"},
		{"desktop.json", "updates-recent", seen, Fail, "never"},
		{"loaner-ready.json", "reboot-pending", seen, Pass, "no"},
		{"loaner-worn.json", "reboot-pending", seen, Fail, "yes"},
		{"loaner-ready.json", "remote-support", seen, Pass, "teamviewer running"},
		{"loaner-worn.json", "remote-support", seen, Fail, "teamviewer installed, not running"},
		{"plugin-errors.json", "remote-support", seen, Unknown, ""},
		{"loaner-ready.json", "loaner-software", seen, Pass, "all present"},
		{"loaner-worn.json", "loaner-software", seen, Fail, "missing LTE Connection Manager"},
		{"kiosk.json", "loaner-software", seen, Unknown, ""},
		{"loaner-ready.json", "bandwidth", seen, Pass, "48.3 Mbps"},
		{"loaner-worn.json", "bandwidth", seen, Fail, "6.2 Mbps"},
		{"plugin-errors.json", "bandwidth", seen, Unknown, ""},
		{"loaner-ready.json", "battery-health", seen, Pass, "92%"},
		{"loaner-worn.json", "battery-health", seen, Fail, "61%"},
		{"desktop.json", "battery-health", seen, Fail, "no battery found"},
		{"plugin-errors.json", "battery-health", seen, Unknown, ""},
		{"loaner-ready.json", "battery-cycles", seen, Pass, "214"},
		{"loaner-worn.json", "battery-cycles", seen, Fail, "1203"},
		{"loaner-ready.json", "disk-free", seen, Pass, "112.0 GiB free on C:"},
		{"loaner-worn.json", "disk-free", seen, Fail, "4.0 GiB free on C:"},
		{"desktop.json", "disk-free", seen, Fail, "9.0 GiB"},
		{"loaner-ready.json", "seen-recently", seen, Pass, "2 h ago"},
		{"loaner-ready.json", "seen-recently", now.Add(-9 * 24 * time.Hour), Fail, "9 days ago"},
		{"loaner-ready.json", "seen-recently", time.Time{}, Unknown, ""},
		{"kiosk.json", "kiosk-signatures", seen, Fail, "78 h"},
		{"loaner-ready.json", "kiosk-signatures", seen, Unknown, ""},
		{"kiosk.json", "kiosk-infections", seen, Fail, "2"},
		{"loaner-ready.json", "webcam", seen, Pass, "1"},
		{"loaner-worn.json", "webcam", seen, Fail, "0"},
		{"loaner-ready.json", "headset", seen, Pass, "1 inputs, 1 outputs"},
		{"loaner-worn.json", "headset", seen, Fail, "0 inputs, 1 outputs"},
		{"desktop.json", "headset", seen, Pass, "1 inputs, 0 outputs"},
	}
	for _, tt := range tests {
		t.Run(tt.report+"/"+tt.rule, func(t *testing.T) {
			rule, ok := rules.Rule(tt.rule)
			if !ok {
				t.Fatalf("no rule %s in configs/readiness.yaml", tt.rule)
			}
			f := factsOf(t, tt.report)
			o := evaluate(rule, &f, tt.lastSeen, now)
			if o.Result != tt.want {
				t.Fatalf("result %s (%+v), want %s", o.Result, o, tt.want)
			}
			// Only failures carry what was measured: passes are not read.
			if got := Translate(o.Measured, "en"); o.Result == Fail && !strings.Contains(got, tt.measured) {
				t.Errorf("measured %q, want it to contain %q", got, tt.measured)
			}
			if o.Result == Pass && o.Measured != "" {
				t.Errorf("a pass carries a measured value %q", o.Measured)
			}
			for _, lang := range Languages {
				if msg := rules.Message(o, lang); strings.Contains(msg, "{") || msg == "" {
					t.Errorf("message in %s not rendered: %q", lang, msg)
				}
			}
		})
	}
}

func TestVerdicts(t *testing.T) {
	rules := defaultRules(t)
	seen := now.Add(-time.Hour)
	tests := []struct {
		report, role string
		lastSeen     time.Time
		want         State
		failing      []string
	}{
		{"loaner-ready.json", "loaner", seen, Ready, nil},
		{"loaner-worn.json", "loaner", seen, NotReady, []string{"security-updates", "updates-recent", "reboot-pending", "remote-support", "loaner-software", "bandwidth", "battery-health", "battery-cycles", "disk-free"}},
		{"kiosk.json", "kiosk", seen, NotReady, []string{"kiosk-signatures", "kiosk-infections"}},
		{"plugin-errors.json", "classroom", seen, StateUnknown, nil},
		{"loaner-ready.json", "no-such-role", seen, Ready, nil}, // falls back to the default role
	}
	for _, tt := range tests {
		t.Run(tt.report+"/"+tt.role, func(t *testing.T) {
			f := factsOf(t, tt.report)
			v := rules.Evaluate(tt.role, &f, tt.lastSeen, now)
			if v.State != tt.want {
				t.Fatalf("state %s, want %s (%+v)", v.State, tt.want, v.Outcomes)
			}
			var failing []string
			for _, o := range v.Outcomes {
				if o.Result == Fail {
					failing = append(failing, o.Rule)
				}
			}
			if strings.Join(failing, ",") != strings.Join(tt.failing, ",") {
				t.Errorf("failing %v, want %v", failing, tt.failing)
			}
		})
	}
}

func TestUnknownBatteryHealth(t *testing.T) {
	rules := defaultRules(t)
	f := factsOf(t, "loaner-ready.json")
	f.Battery.HealthPercent, f.Battery.CycleCount = -1, -1
	for _, id := range []string{"battery-health", "battery-cycles"} {
		rule, _ := rules.Rule(id)
		if o := evaluate(rule, &f, now, now); o.Result != Unknown {
			t.Errorf("%s with the platform silent: %+v, want unknown", id, o)
		}
	}
}

func TestNeverSeenIsUnknown(t *testing.T) {
	rules := defaultRules(t)
	v := rules.Evaluate("loaner", &Facts{}, time.Time{}, now)
	if v.State != StateUnknown || len(v.Outcomes) != len(rules.For("loaner")) {
		t.Fatalf("never-seen unit: %+v, want every rule unknown", v)
	}
	for _, o := range v.Outcomes {
		if o.Reason != ReasonNeverSeen {
			t.Errorf("rule %s: reason %q, want never_seen", o.Rule, o.Reason)
		}
	}
	msg := rules.Message(v.Outcomes[0], "fr")
	if !strings.Contains(msg, "jamais vu") {
		t.Errorf("French message %q", msg)
	}
}

func TestFailedPluginSaysWhy(t *testing.T) {
	rules := defaultRules(t)
	f := factsOf(t, "plugin-errors.json")
	rule, _ := rules.Rule("security-updates")
	o := evaluate(rule, &f, now, now)
	if o.Reason != ReasonFailed || !strings.Contains(rules.Message(o, "en"), "timed out after 20s") {
		t.Errorf("outcome %+v, message %q: want the plugin's failure named", o, rules.Message(o, "en"))
	}
}

func TestMessagesInBothLanguages(t *testing.T) {
	rules := defaultRules(t)
	f := factsOf(t, "loaner-worn.json")
	for _, o := range rules.Evaluate("loaner", &f, now, now).Outcomes {
		en, fr := rules.Message(o, "en"), rules.Message(o, "fr")
		if en == fr || strings.Contains(fr, "{") {
			t.Errorf("rule %s: en %q, fr %q", o.Rule, en, fr)
		}
	}
	o := Outcome{Rule: "battery-health", Result: Fail, Measured: "61%", Threshold: "80% {of_design}"}
	if got, want := rules.Message(o, "en"), "battery at 61% of design capacity, threshold 80% of design capacity"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
