package readiness

import (
	"slices"
	"strings"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Facts is the compact digest of a unit's latest report that readiness
// rules judge: only what some rule reads, so that the reconciler can hold
// the facts of 100,000 units in memory. A nil section means the fact never
// arrived; Errors says why when a collector or plugin failed.
type Facts struct {
	// ReportAt is when the report was collected; zero when no report ever
	// arrived.
	ReportAt time.Time

	Updates       *UpdatesDigest
	RemoteTools   []RemoteToolDigest // nil: no remote-support facts
	HasRemote     bool
	Software      map[string]bool // normalised name → installed; nil: no facts
	Peripherals   *PeripheralsDigest
	Kiosk         *KioskDigest
	Bandwidth     *BandwidthDigest
	Battery       *BatteryDigest // nil with BatteryAbsent: the unit has none
	BatteryAbsent bool
	SystemDisk    *DiskDigest

	// Errors maps a fact name to why it could not be collected.
	Errors map[string]string
}

// UpdatesDigest is what update rules read.
type UpdatesDigest struct {
	PendingSecurity int // -1: unknown
	Pending         int
	LastSuccess     time.Time
	RebootRequired  bool
}

// RemoteToolDigest is one remote-support tool's state.
type RemoteToolDigest struct {
	Name               string
	Installed, Running bool
}

// PeripheralsDigest counts devices.
type PeripheralsDigest struct {
	Cameras, AudioInputs, AudioOutputs int
	Headset                            bool
}

// KioskDigest is what kiosk rules read.
type KioskDigest struct {
	SignatureTime     time.Time
	LastScanUnhandled int
	LastScanInfected  int
}

// BandwidthDigest is the last measurement.
type BandwidthDigest struct {
	Mbps       float64
	MeasuredAt time.Time
}

// BatteryDigest is the worst battery of the unit.
type BatteryDigest struct {
	HealthPercent float64
	CycleCount    int
	ChargePercent float64
}

// DiskDigest is the system disk.
type DiskDigest struct {
	Mount            string
	FreeBytes, Total uint64
}

// Fact names used in Errors and in "unknown" outcomes, aligned with the
// report's sections.
const (
	FactUpdates       = agentapi.FactUpdates
	FactRemoteSupport = agentapi.FactRemoteSupport
	FactSoftware      = agentapi.FactSoftware
	FactPeripherals   = agentapi.FactPeripherals
	FactKiosk         = agentapi.FactAVKiosk
	FactBandwidth     = agentapi.FactBandwidth
	FactBattery       = agentapi.FactBattery
	FactDisk          = "disk"
	FactLastSeen      = "last_seen"
)

// sourceFacts maps the source of an error entry to the fact it costs.
var sourceFacts = map[string]string{
	"plugin updates":       FactUpdates,
	"plugin remotesupport": FactRemoteSupport,
	"plugin software":      FactSoftware,
	"plugin peripherals":   FactPeripherals,
	"plugin avkiosk":       FactKiosk,
	"collector battery":    FactBattery,
	"collector bandwidth":  FactBandwidth,
	"bandwidth":            FactBandwidth,
	"collector host":       FactDisk,
}

// FactsFromReport extracts the digest of a report.
func FactsFromReport(r *agentapi.Report) Facts {
	f := Facts{ReportAt: r.CollectedAt}
	for _, e := range r.Errors {
		fact := sourceFacts[e.Source]
		if e.Fact != "" {
			fact = e.Fact
		}
		if fact == "" {
			continue
		}
		if f.Errors == nil {
			f.Errors = make(map[string]string)
		}
		f.Errors[fact] = e.Source + ": " + e.Message
	}
	if u := r.Updates; u != nil {
		d := &UpdatesDigest{PendingSecurity: u.PendingSecurity, Pending: u.Pending, RebootRequired: u.RebootRequired}
		if u.LastSuccess != nil {
			d.LastSuccess = *u.LastSuccess
		}
		f.Updates = d
	}
	if rs := r.RemoteSupport; rs != nil {
		f.HasRemote = true
		for _, t := range rs.Tools {
			f.RemoteTools = append(f.RemoteTools, RemoteToolDigest{Name: t.Name, Installed: t.Installed, Running: t.Running})
		}
	}
	if sw := r.Software; sw != nil {
		f.Software = make(map[string]bool, len(sw.Items))
		for _, it := range sw.Items {
			f.Software[normalizeName(it.Name)] = it.Installed
		}
	}
	if p := r.Peripherals; p != nil {
		d := &PeripheralsDigest{Cameras: len(p.Cameras), AudioInputs: len(p.AudioInputs), AudioOutputs: len(p.AudioOutputs)}
		for _, dev := range slices.Concat(p.AudioInputs, p.AudioOutputs) {
			if dev.Kind == "headset" {
				d.Headset = true
			}
		}
		f.Peripherals = d
	}
	if k := r.AVKiosk; k != nil {
		d := &KioskDigest{LastScanUnhandled: k.LastScanUnhandled, LastScanInfected: k.LastScanInfected}
		if k.SignatureTime != nil {
			d.SignatureTime = *k.SignatureTime
		}
		f.Kiosk = d
	}
	if b := r.Bandwidth; b != nil && !b.MeasuredAt.IsZero() {
		f.Bandwidth = &BandwidthDigest{Mbps: b.DownloadMbps, MeasuredAt: b.MeasuredAt}
	} else if b != nil && b.Error != "" {
		if f.Errors == nil {
			f.Errors = make(map[string]string)
		}
		f.Errors[FactBandwidth] = "bandwidth: " + b.Error
	}
	if r.Battery == nil {
		_, failed := f.Errors[FactBattery]
		f.BatteryAbsent = !failed
	} else if len(r.Battery.Batteries) > 0 {
		// The worst known battery speaks for the unit; -1 means the
		// platform does not say, which is not "worn out".
		worst := r.Battery.Batteries[0]
		for _, b := range r.Battery.Batteries[1:] {
			if worst.HealthPercent < 0 || (b.HealthPercent >= 0 && b.HealthPercent < worst.HealthPercent) {
				worst = b
			}
		}
		f.Battery = &BatteryDigest{HealthPercent: worst.HealthPercent, CycleCount: worst.CycleCount, ChargePercent: worst.ChargePercent}
	} else {
		f.BatteryAbsent = true
	}
	f.SystemDisk = systemDisk(r.Host.Disks)
	return f
}

// systemDisk picks the disk the OS runs from: "/" or "C:", else the largest.
func systemDisk(disks []agentapi.Disk) *DiskDigest {
	var best *agentapi.Disk
	for i := range disks {
		d := &disks[i]
		m := strings.TrimRight(strings.ToUpper(d.Mount), `\/`)
		if d.Mount == "/" || m == "C:" {
			best = d
			break
		}
		if best == nil || d.TotalBytes > best.TotalBytes {
			best = d
		}
	}
	if best == nil {
		return nil
	}
	return &DiskDigest{Mount: best.Mount, FreeBytes: best.FreeBytes, Total: best.TotalBytes}
}

// normalizeName makes application names comparable: "Microsoft Teams" and
// "microsoft  teams" are the same requirement.
func normalizeName(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
