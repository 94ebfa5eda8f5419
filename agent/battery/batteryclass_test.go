package battery

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/parc-project/parc/agent/agentapi"
)

// The structures go to DeviceIoControl as raw memory: their sizes must be
// those of the C structures in poclass.h.
func TestBatteryClassLayout(t *testing.T) {
	sizes := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"BATTERY_QUERY_INFORMATION", unsafe.Sizeof(batteryQueryInformation{}), 12},
		{"BATTERY_INFORMATION", unsafe.Sizeof(batteryInformation{}), 36},
		{"BATTERY_WAIT_STATUS", unsafe.Sizeof(batteryWaitStatus{}), 20},
		{"BATTERY_STATUS", unsafe.Sizeof(batteryStatus{}), 16},
	}
	for _, s := range sizes {
		if s.got != s.want {
			t.Errorf("%s is %d bytes, want %d", s.name, s.got, s.want)
		}
	}
	if off := unsafe.Offsetof(batteryInformation{}.DesignedCapacity); off != 12 {
		t.Errorf("DesignedCapacity at offset %d, want 12", off)
	}
	if off := unsafe.Offsetof(batteryInformation{}.CycleCount); off != 32 {
		t.Errorf("CycleCount at offset %d, want 32", off)
	}
}

func TestFromBatteryClass(t *testing.T) {
	const systemBattery = 0x80000000 // BATTERY_SYSTEM_BATTERY
	tests := []struct {
		name   string
		info   batteryInformation
		status batteryStatus
		want   agentapi.Battery
		ok     bool
	}{
		{
			name:   "worn laptop pack, discharging",
			info:   batteryInformation{Capabilities: systemBattery, DesignedCapacity: 56000, FullChargedCapacity: 41440, CycleCount: 642},
			status: batteryStatus{PowerState: batteryDischarging, Capacity: 20720, Voltage: 11800, Rate: -9000},
			want: agentapi.Battery{CapacityUnit: UnitMWh, DesignCapacity: 56000, FullChargeCapacity: 41440, HealthPercent: 74,
				CycleCount: 642, ChargePercent: 50, State: StateDischarging},
			ok: true,
		},
		{
			name:   "no cycle counter, charging",
			info:   batteryInformation{Capabilities: systemBattery, DesignedCapacity: 42000, FullChargedCapacity: 42600},
			status: batteryStatus{PowerState: batteryPowerOnLine | batteryCharging, Capacity: 10650},
			want: agentapi.Battery{CapacityUnit: UnitMWh, DesignCapacity: 42000, FullChargeCapacity: 42600, HealthPercent: 101.4,
				CycleCount: -1, ChargePercent: 25, State: StateCharging},
			ok: true,
		},
		{
			name:   "on mains at the top: full",
			info:   batteryInformation{Capabilities: systemBattery, DesignedCapacity: 50000, FullChargedCapacity: 45000, CycleCount: 12},
			status: batteryStatus{PowerState: batteryPowerOnLine, Capacity: 44800},
			want: agentapi.Battery{CapacityUnit: UnitMWh, DesignCapacity: 50000, FullChargeCapacity: 45000, HealthPercent: 90,
				CycleCount: 12, ChargePercent: 99.6, State: StateFull},
			ok: true,
		},
		{
			name:   "on mains held at 80%: not charging",
			info:   batteryInformation{Capabilities: systemBattery, DesignedCapacity: 50000, FullChargedCapacity: 50000},
			status: batteryStatus{PowerState: batteryPowerOnLine, Capacity: 40000},
			want: agentapi.Battery{CapacityUnit: UnitMWh, DesignCapacity: 50000, FullChargeCapacity: 50000, HealthPercent: 100,
				CycleCount: -1, ChargePercent: 80, State: StateNotCharging},
			ok: true,
		},
		{
			name:   "relative capacities, unknown remaining",
			info:   batteryInformation{Capabilities: systemBattery | batteryCapacityRelative, DesignedCapacity: 100, FullChargedCapacity: 87},
			status: batteryStatus{Capacity: batteryUnknownValue},
			want: agentapi.Battery{CapacityUnit: UnitRelative, DesignCapacity: 100, FullChargeCapacity: 87, HealthPercent: 87,
				CycleCount: -1, ChargePercent: -1, State: StateUnknown},
			ok: true,
		},
		{
			name:   "unknown capacities",
			info:   batteryInformation{Capabilities: systemBattery, DesignedCapacity: batteryUnknownValue, FullChargedCapacity: batteryUnknownValue, CycleCount: batteryUnknownValue},
			status: batteryStatus{PowerState: batteryDischarging, Capacity: 3000},
			want:   agentapi.Battery{CapacityUnit: UnitMWh, HealthPercent: -1, CycleCount: -1, ChargePercent: -1, State: StateDischarging},
			ok:     true,
		},
		{
			name: "a UPS is not the unit's battery",
			info: batteryInformation{Capabilities: systemBattery | batteryIsShortTerm, DesignedCapacity: 90000, FullChargedCapacity: 90000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fromBatteryClass(1, "SMP", "DELL 5D91C78", tt.info, tt.status)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			want := tt.want
			want.Name, want.Vendor, want.Model = "BAT1", "SMP", "DELL 5D91C78"
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("\n got %+v\nwant %+v", got, want)
			}
			checkBattery(t, got)
		})
	}
}
