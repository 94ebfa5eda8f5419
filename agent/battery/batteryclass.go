package battery

import (
	"fmt"

	"github.com/parc-project/parc/agent/agentapi"
)

// The Windows battery class (poclass.h), as IOCTL_BATTERY_QUERY_INFORMATION
// and IOCTL_BATTERY_QUERY_STATUS return it. The structures and their
// conversion live here, without a build constraint, so tests run on any OS;
// collect_windows.go only does the I/O. Field order and sizes follow the C
// layout: no padding, as every field after the bytes is 4-byte aligned.

// batteryQueryInformation is BATTERY_QUERY_INFORMATION (12 bytes).
type batteryQueryInformation struct {
	BatteryTag       uint32
	InformationLevel int32 // BATTERY_QUERY_INFORMATION_LEVEL
	AtRate           int32
}

// BATTERY_QUERY_INFORMATION_LEVEL values used here.
const (
	levelInformation     = 0 // BatteryInformation
	levelDeviceName      = 4 // BatteryDeviceName
	levelManufactureName = 6 // BatteryManufactureName
)

// batteryInformation is BATTERY_INFORMATION (36 bytes).
type batteryInformation struct {
	Capabilities        uint32
	Technology          uint8
	Reserved            [3]uint8
	Chemistry           [4]uint8
	DesignedCapacity    uint32
	FullChargedCapacity uint32
	DefaultAlert1       uint32
	DefaultAlert2       uint32
	CriticalBias        uint32
	CycleCount          uint32
}

// batteryWaitStatus is BATTERY_WAIT_STATUS (20 bytes), the input of
// IOCTL_BATTERY_QUERY_STATUS.
type batteryWaitStatus struct {
	BatteryTag   uint32
	Timeout      uint32
	PowerState   uint32
	LowCapacity  uint32
	HighCapacity uint32
}

// batteryStatus is BATTERY_STATUS (16 bytes).
type batteryStatus struct {
	PowerState uint32
	Capacity   uint32 // remaining, in the unit of the capacities
	Voltage    uint32
	Rate       int32
}

// Flags of BATTERY_INFORMATION.Capabilities and BATTERY_STATUS.PowerState.
const (
	batteryCapacityRelative = 0x40000000 // capacities on a driver-chosen scale
	batteryIsShortTerm      = 0x20000000 // a UPS, not a laptop pack

	batteryPowerOnLine  = 0x1
	batteryDischarging  = 0x2
	batteryCharging     = 0x4
	batteryUnknownValue = 0xFFFFFFFF // BATTERY_UNKNOWN_CAPACITY
)

// fromBatteryClass converts what the battery class says about battery
// index into the report's form; false for a UPS.
func fromBatteryClass(index int, manufacturer, deviceName string, info batteryInformation, status batteryStatus) (agentapi.Battery, bool) {
	if info.Capabilities&batteryIsShortTerm != 0 {
		return agentapi.Battery{}, false
	}
	b := agentapi.Battery{
		// Windows has no names like BAT0; the index is the order in which
		// the battery interfaces are listed, stable on one machine.
		Name:          fmt.Sprintf("BAT%d", index),
		Vendor:        manufacturer,
		Model:         deviceName,
		CapacityUnit:  UnitMWh,
		CycleCount:    -1,
		ChargePercent: -1,
		State:         StateUnknown,
	}
	if info.Capabilities&batteryCapacityRelative != 0 {
		b.CapacityUnit = UnitRelative
	}
	known := func(v uint32) float64 {
		if v == batteryUnknownValue {
			return 0
		}
		return float64(v)
	}
	b.DesignCapacity = known(info.DesignedCapacity)
	b.FullChargeCapacity = known(info.FullChargedCapacity)
	b.HealthPercent = healthPercent(b.FullChargeCapacity, b.DesignCapacity)
	// 0 is "no cycle counter" in the battery class documentation.
	if info.CycleCount > 0 && info.CycleCount != batteryUnknownValue {
		b.CycleCount = int(min(info.CycleCount, 1<<31-1))
	}
	if status.Capacity != batteryUnknownValue {
		b.ChargePercent = chargePercent(float64(status.Capacity), b.FullChargeCapacity)
	}
	switch {
	case status.PowerState&batteryCharging != 0:
		b.State = StateCharging
	case status.PowerState&batteryDischarging != 0:
		b.State = StateDischarging
	case status.PowerState&batteryPowerOnLine != 0:
		// On mains, neither charging nor discharging: full, or held back
		// by a charge limit. Packs at the top rarely read exactly their
		// full-charge capacity, hence 99%.
		if b.ChargePercent >= 99 {
			b.State = StateFull
		} else {
			b.State = StateNotCharging
		}
	}
	return b, true
}
