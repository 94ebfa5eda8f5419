package agentapi

import (
	"encoding/json"
	"time"
)

// Report is everything an agent observed about its unit in one collection
// cycle. A nil section means the agent has nothing to say about it (no
// battery, plugin not configured); a failed collection leaves an entry in
// Errors naming its source, so "absent" and "broken" are told apart.
type Report struct {
	Schema int `json:"schema"`
	// Seq numbers the agent's reports, from 1, without gaps: the server uses
	// it to store a report redelivered from the spool only once, and in order.
	Seq         uint64    `json:"seq"`
	CollectedAt time.Time `json:"collected_at"`
	// Fingerprint is ComputeFingerprint() of this report, set by the agent.
	Fingerprint  string `json:"fingerprint"`
	AgentVersion string `json:"agent_version,omitempty"`

	Host          HostFacts           `json:"host"`
	Battery       *BatteryFacts       `json:"battery,omitempty"`
	Updates       *UpdatesFacts       `json:"updates,omitempty"`
	RemoteSupport *RemoteSupportFacts `json:"remote_support,omitempty"`
	Software      *SoftwareFacts      `json:"software,omitempty"`
	Peripherals   *PeripheralsFacts   `json:"peripherals,omitempty"`
	AVKiosk       *AVKioskFacts       `json:"av_kiosk,omitempty"`
	Bandwidth     *BandwidthFacts     `json:"bandwidth,omitempty"`
	// Link is set by probe agents only: what they measured of their
	// site's network link.
	Link *LinkFacts `json:"link,omitempty"`
	// Extra holds facts from plugins this version does not know by name,
	// keyed by fact name, so a third-party plugin needs no agent release.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`

	// Errors lists every collector or plugin that failed this cycle.
	Errors []FactError `json:"errors,omitempty"`
	// SpoolDropped counts reports the agent's full spool dropped since the
	// last acknowledged report: measurements lost while offline are said.
	SpoolDropped uint64 `json:"spool_dropped,omitempty"`
}

// FactError records that a source could not deliver a fact.
type FactError struct {
	// Source names the collector or plugin: "collector battery",
	// "plugin remotesupport".
	Source string `json:"source"`
	// Fact is the fact it failed to deliver, when it is known.
	Fact    string `json:"fact,omitempty"`
	Message string `json:"message"`
}

// HostFacts are the built-in facts every agent reports.
type HostFacts struct {
	Hostname        string `json:"hostname"`
	OS              string `json:"os"`                         // runtime.GOOS: linux, windows, darwin
	Platform        string `json:"platform,omitempty"`         // debian, Microsoft Windows 11 Pro, darwin
	PlatformVersion string `json:"platform_version,omitempty"` // 12.11, 10.0.22631, 14.4
	Kernel          string `json:"kernel,omitempty"`
	Arch            string `json:"arch,omitempty"`
	// UptimeSeconds changes at every cycle, so Fingerprint ignores it.
	UptimeSeconds uint64    `json:"uptime_seconds"`
	BootTime      time.Time `json:"boot_time"`

	// Identity as the firmware reports it. Empty when unreadable (a VM, or
	// an unprivileged agent on Linux); never invented.
	Vendor       string `json:"vendor,omitempty"`
	Model        string `json:"model,omitempty"`
	Serial       string `json:"serial,omitempty"`
	HardwareUUID string `json:"hardware_uuid,omitempty"`
	// IdentityNote says why identity fields are empty, when they are.
	IdentityNote string `json:"identity_note,omitempty"`

	CPUModel    string `json:"cpu_model,omitempty"`
	CPUCores    int    `json:"cpu_cores"`    // logical
	CPUPhysical int    `json:"cpu_physical"` // physical cores, 0 when unknown
	MemoryBytes uint64 `json:"memory_bytes"`

	Disks      []Disk      `json:"disks,omitempty"`
	Interfaces []Interface `json:"interfaces,omitempty"`
}

// Disk is one mounted file system.
type Disk struct {
	Mount      string `json:"mount"`
	Device     string `json:"device,omitempty"`
	FSType     string `json:"fstype,omitempty"`
	TotalBytes uint64 `json:"total_bytes"`
	// FreeBytes moves all the time; Fingerprint sees it rounded (see there).
	FreeBytes uint64 `json:"free_bytes"`
}

// Interface is one network interface with a hardware address.
type Interface struct {
	Name  string   `json:"name"`
	MAC   string   `json:"mac"`
	Addrs []string `json:"addrs,omitempty"`
	Up    bool     `json:"up"`
}

// BatteryFacts describes the unit's batteries. Absent (nil) on a machine
// without a battery.
type BatteryFacts struct {
	Batteries []Battery `json:"batteries"`
	// Note says why Batteries is empty: the machine has none (a desktop,
	// a virtual machine), which is not a failure to read them.
	Note string `json:"note,omitempty"`
}

// Battery is one battery pack. Capacities are in CapacityUnit ("mWh" or
// "mAh", as the platform reports them; "relative" for a Windows driver with
// a scale of its own, "" when none is known, 0 each when unknown);
// HealthPercent compares full to design in the same unit. HealthPercent and
// ChargePercent are -1 when unknown, never 0: a readiness rule must not
// take "unknown" for "worn out" or "empty".
type Battery struct {
	Name               string  `json:"name"`
	Vendor             string  `json:"vendor,omitempty"`
	Model              string  `json:"model,omitempty"`
	CapacityUnit       string  `json:"capacity_unit"`
	DesignCapacity     float64 `json:"design_capacity"`
	FullChargeCapacity float64 `json:"full_charge_capacity"`
	HealthPercent      float64 `json:"health_percent"`
	// CycleCount is -1 when the platform does not say.
	CycleCount    int     `json:"cycle_count"`
	ChargePercent float64 `json:"charge_percent"`
	State         string  `json:"state"` // charging, discharging, full, not_charging, unknown
}

// UpdatesFacts is the OS update state, from the updates plugin.
type UpdatesFacts struct {
	Manager string `json:"manager"` // apt, dnf, windows-update, softwareupdate
	Pending int    `json:"pending"`
	// PendingSecurity is -1 when the manager cannot tell security updates apart.
	PendingSecurity int `json:"pending_security"`
	// LastSuccess is the last time updates were installed successfully; nil
	// when unknown.
	LastSuccess    *time.Time `json:"last_success,omitempty"`
	RebootRequired bool       `json:"reboot_required"`
	// Packages names some pending updates, for the technician's work list.
	Packages []string `json:"packages,omitempty"`
}

// RemoteSupportFacts lists the remote-support tools the plugin looked for.
type RemoteSupportFacts struct {
	Tools []RemoteTool `json:"tools"`
}

// RemoteTool is one remote-support tool: teamviewer, rustdesk, meshcentral,
// anydesk, rdp (Windows), quickassist, screensharing (macOS), xrdp, vnc.
type RemoteTool struct {
	Name      string `json:"name"`
	Installed bool   `json:"installed"`
	Running   bool   `json:"running"`
	Version   string `json:"version,omitempty"`
	DeviceID  string `json:"device_id,omitempty"`
}

// SoftwareFacts answers "is each required application installed?".
type SoftwareFacts struct {
	Items []SoftwareItem `json:"items"`
}

// SoftwareItem is one required application.
type SoftwareItem struct {
	Name      string `json:"name"`
	Installed bool   `json:"installed"`
	Version   string `json:"version,omitempty"`
	// Match is what was found (package name, display name, bundle), so a
	// technician can see why it counted.
	Match string `json:"match,omitempty"`
}

// PeripheralsFacts lists cameras and audio devices present.
type PeripheralsFacts struct {
	Cameras      []Device `json:"cameras"`
	AudioInputs  []Device `json:"audio_inputs"`
	AudioOutputs []Device `json:"audio_outputs"`
}

// Device is one peripheral.
type Device struct {
	Name string `json:"name"`
	// Kind refines it where the OS tells: usb, builtin, bluetooth, headset.
	Kind string `json:"kind,omitempty"`
}

// AVKioskFacts is the state of an antivirus white station.
type AVKioskFacts struct {
	Engine string `json:"engine"` // clamav
	// Installed is false when the engine is absent: not a kiosk, or ClamAV
	// was removed. The other fields are then empty.
	Installed        bool   `json:"installed"`
	EngineVersion    string `json:"engine_version,omitempty"`
	SignatureVersion int    `json:"signature_version,omitempty"`
	// SignatureTime is when the newest signature database was built; the
	// server judges its age against its own clock.
	SignatureTime *time.Time  `json:"signature_time,omitempty"`
	Scans         int         `json:"scans"`
	FilesScanned  int         `json:"files_scanned"`
	Infections    []Infection `json:"infections,omitempty"`
	LastScan      *time.Time  `json:"last_scan,omitempty"`
	// LastScanInfected and LastScanUnhandled count the infections found in
	// the most recent scan, and those neither removed nor moved.
	LastScanInfected  int `json:"last_scan_infected"`
	LastScanUnhandled int `json:"last_scan_unhandled"`
}

// Infection is one infected file a scan found.
type Infection struct {
	Path      string     `json:"path"`
	Signature string     `json:"signature"`
	Action    string     `json:"action,omitempty"` // removed, moved, "" (left in place)
	Time      *time.Time `json:"time,omitempty"`
}

// BandwidthFacts is the agent's last download measurement.
type BandwidthFacts struct {
	DownloadMbps float64   `json:"download_mbps"`
	LatencyMs    float64   `json:"latency_ms"`
	MeasuredAt   time.Time `json:"measured_at"`
	Bytes        int64     `json:"bytes"`
	DurationMs   int64     `json:"duration_ms"`
	Target       string    `json:"target,omitempty"`
	Network      Network   `json:"network"`
	// Error is set when the last attempt failed; the figures above then
	// belong to the last attempt that succeeded, if any.
	Error string `json:"error,omitempty"`
}

// Network says which network a measurement was taken on, without naming it:
// the Wi-Fi SSID is hashed.
type Network struct {
	Kind      string `json:"kind"` // ethernet, wifi, cellular, unknown
	Interface string `json:"interface,omitempty"`
	SSIDHash  string `json:"ssid_hash,omitempty"`
}

// LinkFacts is what a probe agent measured of its site's network link:
// round-trip time and loss to each configured target, and the download
// throughput of its last bandwidth measurement. The server aggregates the
// probes of a site into the site's link state.
type LinkFacts struct {
	MeasuredAt time.Time    `json:"measured_at"`
	Targets    []LinkTarget `json:"targets"`
	// Note says what the probe could not do, such as ICMP echo when the
	// system does not allow unprivileged ping (the ICMP targets then carry
	// an error and no figures).
	Note string `json:"note,omitempty"`
	// DownloadMbps is from the agent's last bandwidth measurement
	// (BandwidthFacts), taken at DownloadAt; 0 and nil when there is none.
	DownloadMbps float64    `json:"download_mbps,omitempty"`
	DownloadAt   *time.Time `json:"download_at,omitempty"`
}

// Probe methods.
const (
	ProbeTCP  = "tcp"  // TCP connect to host:port
	ProbeICMP = "icmp" // ICMP echo to host
)

// LinkTarget is one target's measurement: Sent attempts, Received answers.
// Loss and RTTMs mean something only when Sent > 0; RTTMs is the median
// round-trip time of the answers, 0 when none came.
type LinkTarget struct {
	Target   string  `json:"target"`
	Method   string  `json:"method"`
	Sent     int     `json:"sent"`
	Received int     `json:"received"`
	RTTMs    float64 `json:"rtt_ms"`
	Loss     float64 `json:"loss"`
	// Error is the last failure (connection refused, timeout, not
	// permitted).
	Error string `json:"error,omitempty"`
}
