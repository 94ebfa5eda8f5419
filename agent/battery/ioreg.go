package battery

import (
	"bytes"
	"fmt"
	"math"

	"github.com/parc-project/parc/agent/agentapi"
)

// ParseIoreg reads the output of `ioreg -r -c AppleSmartBattery -a`. Empty
// output (no AppleSmartBattery: an Intel iMac) and an entry without a
// battery installed (a Mac mini, a Mac Studio) give ErrNoBattery.
//
// Where values live has moved across macOS versions, so each is looked up
// in turn at the top of the entry and in its BatteryData dictionary:
//   - design capacity: DesignCapacity;
//   - full-charge capacity: AppleRawMaxCapacity (what the gas gauge
//     measures, the same quantity as energy_full on Linux and
//     FullChargedCapacity on Windows), else BatteryData's
//     FullChargeCapacity (macOS 27 moved it there), else
//     NominalChargeCapacity, else MaxCapacity when it is above 100 (Intel
//     Macs give it in mAh; Apple silicon gives 100, the top of the charge
//     scale, which is no capacity at all);
//   - charge: CurrentCapacity over MaxCapacity, which is a percentage on
//     Apple silicon and mAh over mAh on Intel.
func ParseIoreg(data []byte) (*agentapi.BatteryFacts, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrNoBattery
	}
	v, err := parsePlist(data)
	if err != nil {
		return nil, fmt.Errorf("parsing ioreg output: %w", err)
	}
	var entries []any
	switch t := v.(type) {
	case []any:
		entries = t
	case map[string]any:
		entries = []any{t}
	default:
		return nil, fmt.Errorf("parsing ioreg output: a %T where an array of entries belongs", v)
	}
	facts := &agentapi.BatteryFacts{}
	for _, e := range entries {
		d, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parsing ioreg output: an entry is a %T, not a dict", e)
		}
		if b, ok := smartBattery(d, len(facts.Batteries)); ok {
			facts.Batteries = append(facts.Batteries, b)
		}
	}
	if len(facts.Batteries) == 0 {
		return nil, ErrNoBattery
	}
	return facts, nil
}

// smartBattery converts one AppleSmartBattery entry; false when it holds no
// battery.
func smartBattery(top map[string]any, index int) (agentapi.Battery, bool) {
	if installed, ok := top["BatteryInstalled"].(bool); ok && !installed {
		return agentapi.Battery{}, false
	}
	data, _ := top["BatteryData"].(map[string]any)
	look := func(key string) (float64, bool) {
		if v, ok := plistNumber(top[key]); ok {
			return v, true
		}
		return plistNumber(data[key])
	}
	b := agentapi.Battery{
		// pmset -g batt calls it so.
		Name:          fmt.Sprintf("InternalBattery-%d", index),
		Vendor:        plistString(top["Manufacturer"]),
		Model:         plistString(top["DeviceName"]),
		CapacityUnit:  UnitMAh,
		CycleCount:    -1,
		ChargePercent: -1,
		State:         StateUnknown,
	}
	if v, ok := look("DesignCapacity"); ok && v > 0 {
		b.DesignCapacity = v
	}
	full := firstPositive(
		func() (float64, bool) { return plistNumber(top["AppleRawMaxCapacity"]) },
		func() (float64, bool) { return plistNumber(data["FullChargeCapacity"]) },
		func() (float64, bool) { return look("NominalChargeCapacity") },
		func() (float64, bool) {
			v, ok := look("MaxCapacity")
			return v, ok && v > 100
		},
	)
	b.FullChargeCapacity = full
	b.HealthPercent = healthPercent(b.FullChargeCapacity, b.DesignCapacity)

	if v, ok := look("CycleCount"); ok && v >= 0 {
		b.CycleCount = int(min(v, 1<<31-1))
	}
	cur, okCur := look("CurrentCapacity")
	scale, okScale := look("MaxCapacity")
	switch {
	case okCur && okScale:
		b.ChargePercent = chargePercent(cur, scale)
	case full > 0:
		if raw, ok := plistNumber(top["AppleRawCurrentCapacity"]); ok {
			b.ChargePercent = chargePercent(raw, full)
		} else if rem, ok := plistNumber(data["RemainingCapacity"]); ok {
			b.ChargePercent = chargePercent(rem, full)
		}
	}

	charging, okCharging := top["IsCharging"].(bool)
	if !okCharging {
		charger, _ := top["ChargerData"].(map[string]any)
		charging, okCharging = charger["IsCharging"].(bool)
	}
	external, okExternal := top["ExternalConnected"].(bool)
	fully, _ := top["FullyCharged"].(bool)
	switch {
	case fully:
		b.State = StateFull
	case okCharging && charging:
		b.State = StateCharging
	case okExternal && external:
		// On power, not charging: macOS optimised charging or a charge
		// limit holds it below full.
		b.State = StateNotCharging
	case okExternal:
		b.State = StateDischarging
	}
	return b, true
}

// firstPositive returns the first value that is present and above zero,
// or 0.
func firstPositive(sources ...func() (float64, bool)) float64 {
	for _, src := range sources {
		if v, ok := src(); ok && v > 0 {
			return v
		}
	}
	return 0
}

// plistNumber reads an integer or a finite real. An integer past the int64
// range is a negative counter printed unsigned, meaningless for a capacity:
// absent. So are NaN and infinities, which JSON cannot carry.
func plistNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

func plistString(v any) string {
	s, _ := v.(string)
	return s
}
