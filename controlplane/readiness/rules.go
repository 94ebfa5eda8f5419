// Package readiness judges whether a unit is ready to be handed out. Rules
// are data (a YAML file per deployment, configs/readiness.yaml), per role;
// each rule has a kind, a threshold and a message in French and English. A
// unit is ready when every rule of its role passes, not ready with the list
// of failing rules otherwise, and unknown while a fact a rule needs never
// arrived.
package readiness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Kind names what a rule checks.
type Kind string

// Rule kinds. The comment gives the parameters each one reads.
const (
	KindUpdatesSecurity Kind = "updates_security" // max: pending security updates allowed
	KindUpdatesRecent   Kind = "updates_recent"   // max_age: since the last successful update
	KindUpdatesReboot   Kind = "updates_reboot"   // no pending reboot
	KindRemoteSupport   Kind = "remote_support"   // values: accepted tools (empty: any); one installed and running
	KindSoftware        Kind = "software"         // values: required applications
	KindBandwidth       Kind = "bandwidth"        // min: Mbps; max_age: of the measurement
	KindBatteryHealth   Kind = "battery_health"   // min: full-charge capacity, % of design
	KindBatteryCycles   Kind = "battery_cycles"   // max: cycle count must stay below it
	KindDiskFree        Kind = "disk_free"        // min: GiB free on the system disk
	KindLastSeen        Kind = "last_seen"        // max_age: since the last check-in
	KindKioskSignatures Kind = "kiosk_signatures" // max_age: of the antivirus signatures
	KindKioskInfections Kind = "kiosk_infections" // max: infections left unhandled in the last scan
	KindWebcam          Kind = "webcam"           // min: cameras present
	KindHeadset         Kind = "headset"          // audio input and output present
)

var kinds = map[Kind]struct {
	needMin, needMax, needAge, needValues bool
}{
	KindUpdatesSecurity: {needMax: true},
	KindUpdatesRecent:   {needAge: true},
	KindUpdatesReboot:   {},
	KindRemoteSupport:   {},
	KindSoftware:        {needValues: true},
	KindBandwidth:       {needMin: true, needAge: true},
	KindBatteryHealth:   {needMin: true},
	KindBatteryCycles:   {needMax: true},
	KindDiskFree:        {needMin: true},
	KindLastSeen:        {needAge: true},
	KindKioskSignatures: {needAge: true},
	KindKioskInfections: {needMax: true},
	KindWebcam:          {needMin: true},
	KindHeadset:         {},
}

// Languages every message must exist in.
var Languages = []string{"en", "fr"}

// Rule is one readiness rule as written in the rules file.
type Rule struct {
	ID     string        `mapstructure:"id"`
	Kind   Kind          `mapstructure:"kind"`
	Min    *float64      `mapstructure:"min"`
	Max    *float64      `mapstructure:"max"`
	MaxAge time.Duration `mapstructure:"max_age"`
	Values []string      `mapstructure:"values"`
	// Message per language, with {measured} and {threshold} replaced.
	Message map[string]string `mapstructure:"message"`
}

// Liveness bounds when a unit counts as stale or missing.
type Liveness struct {
	StaleAfter   time.Duration `mapstructure:"stale_after"`
	MissingAfter time.Duration `mapstructure:"missing_after"`
}

// Rules is a loaded, validated rules file.
type Rules struct {
	Liveness Liveness
	// DefaultRole judges units whose role nobody declared (an agent
	// enrolled with a token that names none, and not in the inventory).
	DefaultRole string
	roles       map[string][]Rule
	byID        map[string]Rule
}

type file struct {
	Liveness    Liveness          `mapstructure:"liveness"`
	DefaultRole string            `mapstructure:"default_role"`
	Roles       map[string][]Rule `mapstructure:"roles"`
}

// Load reads and validates a rules file.
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading readiness rules: %w", err)
	}
	r, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("readiness rules %s: %w", path, err)
	}
	return r, nil
}

// Parse reads and validates rules in YAML.
func Parse(in io.Reader) (*Rules, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(in); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	var f file
	if err := v.Unmarshal(&f); err != nil {
		return nil, fmt.Errorf("unexpected shape: %w", err)
	}
	r := &Rules{Liveness: f.Liveness, DefaultRole: f.DefaultRole, roles: f.Roles, byID: map[string]Rule{}}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// validate reports every problem at once.
func (r *Rules) validate() error {
	var errs []error
	if r.Liveness.StaleAfter <= 0 || r.Liveness.MissingAfter <= r.Liveness.StaleAfter {
		errs = append(errs, fmt.Errorf("liveness: want 0 < stale_after < missing_after, got %s and %s", r.Liveness.StaleAfter, r.Liveness.MissingAfter))
	}
	if len(r.roles) == 0 {
		errs = append(errs, errors.New("roles: none defined"))
	}
	if r.DefaultRole != "" {
		if _, ok := r.roles[r.DefaultRole]; !ok {
			errs = append(errs, fmt.Errorf("default_role %q: no rules for that role", r.DefaultRole))
		}
	}
	for _, role := range r.Roles() {
		for i, rule := range r.roles[role] {
			where := fmt.Sprintf("roles.%s[%d]", role, i)
			if rule.ID == "" {
				errs = append(errs, fmt.Errorf("%s: id missing", where))
				continue
			}
			where = fmt.Sprintf("roles.%s rule %q", role, rule.ID)
			if prev, dup := r.byID[rule.ID]; dup && !sameRule(prev, rule) {
				errs = append(errs, fmt.Errorf("%s: id used by another rule with other settings (rule ids are global, so a message means one thing)", where))
			}
			r.byID[rule.ID] = rule
			spec, ok := kinds[rule.Kind]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown kind %q", where, rule.Kind))
				continue
			}
			if spec.needMin && rule.Min == nil {
				errs = append(errs, fmt.Errorf("%s: kind %s needs min", where, rule.Kind))
			}
			if spec.needMax && rule.Max == nil {
				errs = append(errs, fmt.Errorf("%s: kind %s needs max", where, rule.Kind))
			}
			if spec.needAge && rule.MaxAge <= 0 {
				errs = append(errs, fmt.Errorf("%s: kind %s needs max_age (e.g. 720h)", where, rule.Kind))
			}
			if spec.needValues && len(rule.Values) == 0 {
				errs = append(errs, fmt.Errorf("%s: kind %s needs values", where, rule.Kind))
			}
			for _, lang := range Languages {
				if strings.TrimSpace(rule.Message[lang]) == "" {
					errs = append(errs, fmt.Errorf("%s: message.%s missing (every message exists in %s)", where, lang, strings.Join(Languages, " and ")))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func sameRule(a, b Rule) bool {
	return a.Kind == b.Kind && ptrEq(a.Min, b.Min) && ptrEq(a.Max, b.Max) && a.MaxAge == b.MaxAge &&
		slices.Equal(a.Values, b.Values) && a.Message["en"] == b.Message["en"] && a.Message["fr"] == b.Message["fr"]
}

func ptrEq(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Roles lists the roles that have rules, sorted.
func (r *Rules) Roles() []string {
	out := make([]string, 0, len(r.roles))
	for role := range r.roles {
		out = append(out, role)
	}
	sort.Strings(out)
	return out
}

// For returns the rules of role; a role without rules falls back to the
// default role's.
func (r *Rules) For(role string) []Rule {
	if rules, ok := r.roles[role]; ok {
		return rules
	}
	return r.roles[r.DefaultRole]
}

// Rule returns the rule with id.
func (r *Rules) Rule(id string) (Rule, bool) {
	rule, ok := r.byID[id]
	return rule, ok
}

// Message renders the message of an outcome's rule in lang (English when
// lang has none).
func (r *Rules) Message(o Outcome, lang string) string {
	rule, ok := r.byID[o.Rule]
	if !ok && o.Rule != NeverSeenRule {
		return o.Rule
	}
	if o.Result == Unknown {
		return unknownMessage(o, lang)
	}
	if o.Reason == ReasonAbsent {
		// The rule's message speaks of a measure; there is nothing to measure.
		return Translate(o.Measured, lang)
	}
	msg := rule.Message[lang]
	if msg == "" {
		msg = rule.Message["en"]
	}
	msg = strings.NewReplacer("{measured}", Translate(o.Measured, lang), "{threshold}", Translate(o.Threshold, lang)).Replace(msg)
	if o.Reason == ReasonSiteDark {
		msg = SiteDarkMessage(lang) + " — " + msg
	}
	return msg
}

// SiteDarkMessage says, in lang, why a unit of a dark site is silent.
func SiteDarkMessage(lang string) string {
	if lang == "fr" {
		return "lien réseau du site coupé"
	}
	return "site link down"
}

// MarkSiteDark gives the failing check-in (last_seen) rules among
// outcomes their cause: the unit's site is dark. It returns outcomes,
// changed in place.
func (r *Rules) MarkSiteDark(outcomes []Outcome) []Outcome {
	for i, o := range outcomes {
		if rule, ok := r.byID[o.Rule]; ok && rule.Kind == KindLastSeen && o.Result == Fail {
			outcomes[i].Reason = ReasonSiteDark
		}
	}
	return outcomes
}

// NeverSeenRule names the one reason shown for a unit no agent ever
// reported for, instead of every rule being unknown for the same cause.
const NeverSeenRule = "never-seen"

// Collapse returns outcomes fit for reading: when every rule is unknown
// because no agent ever reported, a single never-seen outcome.
func Collapse(outcomes []Outcome) []Outcome {
	if len(outcomes) == 0 {
		return outcomes
	}
	for _, o := range outcomes {
		if o.Reason != ReasonNeverSeen {
			return outcomes
		}
	}
	return []Outcome{{Rule: NeverSeenRule, Result: Unknown, Reason: ReasonNeverSeen}}
}

// factNames names facts for technicians, per language.
var factNames = map[string][2]string{ // en, fr
	FactUpdates:       {"OS update", "mises à jour du système"},
	FactRemoteSupport: {"remote-support", "assistance à distance"},
	FactSoftware:      {"installed software", "logiciels installés"},
	FactPeripherals:   {"peripheral", "périphériques"},
	FactKiosk:         {"antivirus kiosk", "station blanche antivirus"},
	FactBandwidth:     {"bandwidth", "débit"},
	FactBattery:       {"battery", "batterie"},
	FactDisk:          {"disk", "disque"},
	FactLastSeen:      {"check-in", "connexion"},
}

func unknownMessage(o Outcome, lang string) string {
	names, ok := factNames[o.Fact]
	if !ok {
		names = [2]string{o.Fact, o.Fact}
	}
	var msg string
	switch {
	case o.Reason == ReasonNeverSeen && lang == "fr":
		msg = "jamais vu : aucun agent n'a fait de rapport pour cette unité"
	case o.Reason == ReasonNeverSeen:
		msg = "never seen: no agent has reported for this unit"
	case o.Reason == ReasonFailed && lang == "fr":
		msg = "collecte « " + names[1] + " » en échec"
	case o.Reason == ReasonFailed:
		msg = names[0] + " facts could not be collected"
	case lang == "fr":
		msg = "aucune donnée « " + names[1] + " » reçue (greffon absent ou non configuré ?)"
	default:
		msg = "no " + names[0] + " facts received (plugin missing or not configured?)"
	}
	if o.Detail != "" {
		msg += " (" + o.Detail + ")"
	}
	return msg
}
