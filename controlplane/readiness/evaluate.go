package readiness

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result of one rule for one unit.
type Result string

// Results.
const (
	Pass    Result = "pass"
	Fail    Result = "fail"
	Unknown Result = "unknown"
)

// Reasons a rule's result is unknown.
const (
	ReasonMissing   = "missing"    // the fact never arrived
	ReasonFailed    = "failed"     // the agent tried and failed to collect it
	ReasonNeverSeen = "never_seen" // no agent ever reported for the unit
	// ReasonAbsent qualifies a failure: the device the rule is about is not
	// there at all (a laptop reporting no battery).
	ReasonAbsent = "absent"
	// ReasonSiteDark qualifies a failing check-in rule: the unit is silent
	// because its site's network link is down, not because of the unit.
	ReasonSiteDark = "site_dark"
)

// Outcome is one rule's verdict on one unit, kept compact: the message is
// rendered from the rule when shown, in the reader's language.
type Outcome struct {
	Rule      string `json:"rule"`
	Result    Result `json:"result"`
	Measured  string `json:"measured,omitempty"`
	Threshold string `json:"threshold,omitempty"`
	// Fact, Reason and Detail explain an unknown result.
	Fact   string `json:"fact,omitempty"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// State is a unit's readiness.
type State string

// States.
const (
	Ready    State = "ready"
	NotReady State = "not_ready"
	// StateUnknown: no rule failed, but some could not be judged. Unknown is
	// not ready: a technician must look.
	StateUnknown State = "unknown"
)

// Verdict is a unit's readiness with the outcomes that are not passes.
type Verdict struct {
	State    State
	Outcomes []Outcome // failing and unknown rules only, in rule order
}

// Evaluate judges facts against the rules of role. lastSeen is the server
// time of the unit's last check-in (zero: never); now is the server's clock.
func (r *Rules) Evaluate(role string, f *Facts, lastSeen, now time.Time) Verdict {
	v := Verdict{State: Ready}
	for _, rule := range r.For(role) {
		o := evaluate(rule, f, lastSeen, now)
		switch o.Result {
		case Fail:
			v.State = NotReady
		case Unknown:
			if v.State == Ready {
				v.State = StateUnknown
			}
		case Pass:
			continue
		}
		v.Outcomes = append(v.Outcomes, o)
	}
	return v
}

func evaluate(rule Rule, f *Facts, lastSeen, now time.Time) Outcome {
	o := Outcome{Rule: rule.ID}
	unknown := func(fact string) Outcome {
		o.Result, o.Fact = Unknown, fact
		switch {
		case f.ReportAt.IsZero() && lastSeen.IsZero():
			o.Reason = ReasonNeverSeen
		case f.Errors[fact] != "":
			o.Reason, o.Detail = ReasonFailed, f.Errors[fact]
		default:
			o.Reason = ReasonMissing
		}
		return o
	}
	// judge formats the measured value and threshold only for a failure:
	// most rules pass, and a pass over 100,000 units must not format a
	// million strings nobody reads.
	judge := func(ok bool, describe func() (measured, threshold string)) Outcome {
		if ok {
			o.Result = Pass
			return o
		}
		o.Result = Fail
		o.Measured, o.Threshold = describe()
		return o
	}

	switch rule.Kind {
	case KindUpdatesSecurity:
		if f.Updates == nil {
			return unknown(FactUpdates)
		}
		if f.Updates.PendingSecurity < 0 {
			// The manager cannot tell security updates apart: judge every
			// pending update as possibly one.
			return judge(float64(f.Updates.Pending) <= *rule.Max, func() (string, string) {
				return fmt.Sprintf("%d {security_not_told_apart}", f.Updates.Pending), num(*rule.Max)
			})
		}
		return judge(float64(f.Updates.PendingSecurity) <= *rule.Max, func() (string, string) { return strconv.Itoa(f.Updates.PendingSecurity), num(*rule.Max) })
	case KindUpdatesRecent:
		if f.Updates == nil {
			return unknown(FactUpdates)
		}
		if f.Updates.LastSuccess.IsZero() {
			return judge(false, func() (string, string) { return "{never}", days(rule.MaxAge) })
		}
		age := now.Sub(f.Updates.LastSuccess)
		return judge(age <= rule.MaxAge, func() (string, string) { return days(age), days(rule.MaxAge) })
	case KindUpdatesReboot:
		if f.Updates == nil {
			return unknown(FactUpdates)
		}
		return judge(!f.Updates.RebootRequired, func() (string, string) { return yesNo(f.Updates.RebootRequired), "{no}" })
	case KindRemoteSupport:
		if !f.HasRemote {
			return unknown(FactRemoteSupport)
		}
		accepted := func(t RemoteToolDigest) bool { return len(rule.Values) == 0 || slices.Contains(rule.Values, t.Name) }
		ok := slices.ContainsFunc(f.RemoteTools, func(t RemoteToolDigest) bool { return accepted(t) && t.Installed && t.Running })
		return judge(ok, func() (string, string) {
			var installed []string
			for _, t := range f.RemoteTools {
				if accepted(t) && t.Installed {
					installed = append(installed, t.Name)
				}
			}
			measured := "{none}"
			if len(installed) > 0 {
				measured = strings.Join(installed, ", ") + " {installed_not_running}"
			}
			threshold := "{one_tool_running}"
			if len(rule.Values) > 0 {
				threshold = "{one_of} " + strings.Join(rule.Values, ", ") + " {running}"
			}
			return measured, threshold
		})
	case KindSoftware:
		if f.Software == nil {
			return unknown(FactSoftware)
		}
		var missing []string
		for _, name := range rule.Values {
			if !f.Software[normalizeName(name)] {
				missing = append(missing, name)
			}
		}
		return judge(len(missing) == 0, func() (string, string) {
			return "{missing} " + strings.Join(missing, ", "), strings.Join(rule.Values, ", ")
		})
	case KindBandwidth:
		if f.Bandwidth == nil {
			return unknown(FactBandwidth)
		}
		age := now.Sub(f.Bandwidth.MeasuredAt)
		threshold := func() string { return fmt.Sprintf("%s Mbps, {measured_within} %s", num(*rule.Min), days(rule.MaxAge)) }
		if age > rule.MaxAge {
			return judge(false, func() (string, string) {
				return fmt.Sprintf("%.1f Mbps {taken} %s {ago}", f.Bandwidth.Mbps, days(age)), threshold()
			})
		}
		return judge(f.Bandwidth.Mbps >= *rule.Min, func() (string, string) { return fmt.Sprintf("%.1f Mbps", f.Bandwidth.Mbps), threshold() })
	case KindBatteryHealth, KindBatteryCycles:
		if f.Battery == nil {
			if f.BatteryAbsent && !f.ReportAt.IsZero() {
				o = judge(false, func() (string, string) { return "{no_battery}", thresholdOf(rule) })
				o.Fact, o.Reason = FactBattery, ReasonAbsent
				return o
			}
			return unknown(FactBattery)
		}
		if rule.Kind == KindBatteryHealth {
			if f.Battery.HealthPercent < 0 {
				return unknown(FactBattery) // the platform does not tell the capacities
			}
			return judge(f.Battery.HealthPercent >= *rule.Min, func() (string, string) { return fmt.Sprintf("%.0f%%", f.Battery.HealthPercent), thresholdOf(rule) })
		}
		if f.Battery.CycleCount < 0 {
			return unknown(FactBattery) // the platform does not count cycles
		}
		return judge(float64(f.Battery.CycleCount) < *rule.Max, func() (string, string) { return strconv.Itoa(f.Battery.CycleCount), thresholdOf(rule) })
	case KindDiskFree:
		if f.SystemDisk == nil {
			return unknown(FactDisk)
		}
		free := float64(f.SystemDisk.FreeBytes) / (1 << 30)
		return judge(free >= *rule.Min, func() (string, string) {
			return fmt.Sprintf("%.1f GiB {free_on} %s", free, f.SystemDisk.Mount), thresholdOf(rule)
		})
	case KindLastSeen:
		if lastSeen.IsZero() {
			return unknown(FactLastSeen)
		}
		age := now.Sub(lastSeen)
		return judge(age <= rule.MaxAge, func() (string, string) { return days(age) + " {ago}", days(rule.MaxAge) })
	case KindKioskSignatures:
		if f.Kiosk == nil {
			return unknown(FactKiosk)
		}
		if f.Kiosk.SignatureTime.IsZero() {
			return judge(false, func() (string, string) { return "{no_sigdb}", hours(rule.MaxAge) })
		}
		age := now.Sub(f.Kiosk.SignatureTime)
		return judge(age <= rule.MaxAge, func() (string, string) { return hours(age), hours(rule.MaxAge) })
	case KindKioskInfections:
		if f.Kiosk == nil {
			return unknown(FactKiosk)
		}
		return judge(float64(f.Kiosk.LastScanUnhandled) <= *rule.Max, func() (string, string) { return strconv.Itoa(f.Kiosk.LastScanUnhandled), num(*rule.Max) })
	case KindWebcam:
		if f.Peripherals == nil {
			return unknown(FactPeripherals)
		}
		return judge(float64(f.Peripherals.Cameras) >= *rule.Min, func() (string, string) { return strconv.Itoa(f.Peripherals.Cameras), num(*rule.Min) })
	case KindHeadset:
		if f.Peripherals == nil {
			return unknown(FactPeripherals)
		}
		p := f.Peripherals
		ok := p.Headset || (p.AudioInputs > 0 && p.AudioOutputs > 0)
		return judge(ok, func() (string, string) {
			return fmt.Sprintf("%d {inputs}, %d {outputs}", p.AudioInputs, p.AudioOutputs), "{mic_and_speaker}"
		})
	}
	o.Result, o.Detail = Unknown, "rule kind not implemented: "+string(rule.Kind)
	return o
}

func thresholdOf(rule Rule) string {
	switch rule.Kind {
	case KindBatteryHealth:
		return num(*rule.Min) + "% {of_design}"
	case KindBatteryCycles:
		return "{below} " + num(*rule.Max) + " {cycles}"
	case KindDiskFree:
		return num(*rule.Min) + " GiB"
	}
	return ""
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func yesNo(b bool) string {
	if b {
		return "{yes}"
	}
	return "{no}"
}

// days formats a duration the way a technician reads an age.
func days(d time.Duration) string {
	if d < 48*time.Hour {
		return hours(d)
	}
	return fmt.Sprintf("%d {days}", int(math.Round(d.Hours()/24)))
}

func hours(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h", int(d.Hours()))
}
