// Package battery reads the unit's battery facts: design and full-charge
// capacity, health, cycle count, charge and charging state. It is built
// into the agent (no plugin) because a worn battery decides whether a
// loaner can go out, on every platform.
//
// The parsing lives in pure functions over what the platform gives
// (ReadSysfs over a sysfs tree, ParseIoreg over ioreg's output, and the
// conversion of Windows battery-class structures), so tests run on any OS
// against fixtures in testdata/.
//
// Conventions, the same on every platform:
//   - A machine without a battery gives ErrNoBattery, not an empty list: the
//     agent reports "no battery" rather than an error. Peripherals with a
//     battery (a wireless mouse, a headset) and UPSes do not count.
//   - HealthPercent is FullChargeCapacity / DesignCapacity × 100, to one
//     decimal, uncapped (a new pack may read 101%); -1 when either is unknown.
//   - CycleCount is -1 when unknown. A count of 0 from Linux sysfs or the
//     Windows battery class is taken as unknown: both report 0 when the
//     firmware does not count cycles (ACPI _BIF has no cycle field; the
//     Windows BATTERY_INFORMATION documents 0 as "not supported"), and UPower
//     shows such a count as N/A. The price is that a brand-new pack shows
//     "unknown" rather than 0 for its first cycle; a readiness rule on wear
//     should rest on HealthPercent, which every platform gives. macOS counts
//     cycles in the battery's gas gauge, so there 0 is 0.
//   - ChargePercent is -1 when unknown.
package battery

import (
	"context"
	"errors"
	"math"

	"github.com/parc-project/parc/agent/agentapi"
)

// ErrNoBattery says the machine has no battery: a desktop, a VM, a Mac mini.
var ErrNoBattery = errors.New("no battery")

// Capacity units of agentapi.Battery.CapacityUnit.
const (
	UnitMWh = "mWh"
	UnitMAh = "mAh"
	// UnitRelative is what Windows reports for a battery whose capacities
	// are on a scale of the driver's choosing (BATTERY_CAPACITY_RELATIVE):
	// only their ratio, HealthPercent, means anything.
	UnitRelative = "relative"
)

// Charging states of agentapi.Battery.State.
const (
	StateCharging    = "charging"
	StateDischarging = "discharging"
	StateFull        = "full"
	// StateNotCharging is on mains power but not charging: held below full
	// by a charge threshold, or paused by the firmware.
	StateNotCharging = "not_charging"
	StateUnknown     = "unknown"
)

// Collect reads this machine's batteries. It returns ErrNoBattery when there
// is none. It may return facts and an error together: the batteries it
// could read, and what it could not read about them; the agent reports both.
func Collect(ctx context.Context) (*agentapi.BatteryFacts, error) {
	return collect(ctx)
}

// result is what a collector returns from the batteries it kept and the
// errors it met: the batteries with the errors beside them; the errors
// alone when no battery could be read; ErrNoBattery when there was none.
func result(batteries []agentapi.Battery, errs []error) (*agentapi.BatteryFacts, error) {
	if len(batteries) == 0 {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, ErrNoBattery
	}
	return &agentapi.BatteryFacts{Batteries: batteries}, errors.Join(errs...)
}

// healthPercent is full over design in percent, to one decimal, or -1.
func healthPercent(full, design float64) float64 {
	if full <= 0 || design <= 0 || math.IsInf(full, 0) || math.IsInf(design, 0) {
		return -1
	}
	return round1(full / design * 100)
}

// chargePercent is now over full in percent, to one decimal, within
// [0, 100], or -1.
func chargePercent(now, full float64) float64 {
	if now < 0 || full <= 0 || math.IsInf(now, 0) || math.IsInf(full, 0) {
		return -1
	}
	return round1(min(now/full*100, 100))
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
