package sim

import (
	"fmt"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Host returns plausible host facts for simulated machine n: a school
// laptop with its serial, UUID, disk and Wi-Fi interface, all derived from n
// so that runs are repeatable.
func Host(n int) agentapi.HostFacts {
	return agentapi.HostFacts{
		Hostname: fmt.Sprintf("SIM-LP-%06d", n), OS: "windows", Platform: "Microsoft Windows 11 Pro",
		PlatformVersion: "10.0.22631", Kernel: "10.0.22631.4460", Arch: "amd64",
		UptimeSeconds: 3600, BootTime: time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC),
		Vendor: "LENOVO", Model: "20XW004MFR", Serial: fmt.Sprintf("SIM%07d", n),
		HardwareUUID: fmt.Sprintf("4c4c4544-%04x-%04x-8052-b4c04f4e4d32", (n>>16)&0xffff, n&0xffff),
		CPUModel:     "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", CPUCores: 8, CPUPhysical: 4, MemoryBytes: 8 << 30,
		Disks: []agentapi.Disk{{Mount: "C:", Device: `\\.\PHYSICALDRIVE0`, FSType: "NTFS", TotalBytes: 255550554112, FreeBytes: 120259084288}},
		Interfaces: []agentapi.Interface{
			{Name: "Wi-Fi", MAC: fmt.Sprintf("a4:c3:f0:%02x:%02x:%02x", (n>>16)&0xff, (n>>8)&0xff, n&0xff), Addrs: []string{"192.168.1.23/24"}, Up: true},
		},
	}
}

// ReadyLoaner fills r with the facts of a loaner that passes the default
// loaner rules at time now.
func ReadyLoaner(r *agentapi.Report, now time.Time) {
	last := now.Add(-72 * time.Hour)
	r.Updates = &agentapi.UpdatesFacts{Manager: "windows-update", PendingSecurity: 0, LastSuccess: &last}
	r.RemoteSupport = &agentapi.RemoteSupportFacts{Tools: []agentapi.RemoteTool{{Name: "rustdesk", Installed: true, Running: true, Version: "1.3.2"}}}
	r.Software = &agentapi.SoftwareFacts{Items: []agentapi.SoftwareItem{
		{Name: "Microsoft Teams", Installed: true, Version: "24295.605"},
		{Name: "LTE Connection Manager", Installed: true, Version: "3.2.1"}}}
	r.Bandwidth = &agentapi.BandwidthFacts{DownloadMbps: 42, LatencyMs: 18, MeasuredAt: now.Add(-2 * time.Hour),
		Network: agentapi.Network{Kind: "wifi"}}
	r.Battery = &agentapi.BatteryFacts{Batteries: []agentapi.Battery{{Name: "BAT0", CapacityUnit: "mWh",
		DesignCapacity: 51000, FullChargeCapacity: 46920, HealthPercent: 92, CycleCount: 214, ChargePercent: 88, State: "charging"}}}
	r.Peripherals = &agentapi.PeripheralsFacts{Cameras: []agentapi.Device{{Name: "Integrated Camera"}},
		AudioInputs: []agentapi.Device{{Name: "Microphone Array"}}, AudioOutputs: []agentapi.Device{{Name: "Speakers"}}}
}
