package agentapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Quanta below which a moving figure does not count as a change of content.
// Without them every report would differ from the last (a few MB written to
// disk, a battery draining by 1%) and every check-in would be a full report.
const (
	fingerprintDiskQuantum   = 1 << 30 // 1 GiB of free space
	fingerprintChargeQuantum = 10      // percent of battery charge
)

// ComputeFingerprint returns a digest of the report's content: what a technician
// would call a change. It leaves out what identifies the cycle (Seq,
// CollectedAt, the fingerprint itself) and uptime, and sees free disk space
// and battery charge rounded, so that a heartbeat can stand for an unchanged
// report.
func (r *Report) ComputeFingerprint() string {
	c := *r
	c.Seq = 0
	c.CollectedAt = time.Time{}
	c.Fingerprint = ""
	c.Host.UptimeSeconds = 0
	c.Host.Disks = slices.Clone(r.Host.Disks)
	for i := range c.Host.Disks {
		c.Host.Disks[i].FreeBytes = c.Host.Disks[i].FreeBytes / fingerprintDiskQuantum
	}
	if r.Battery != nil {
		b := *r.Battery
		b.Batteries = slices.Clone(r.Battery.Batteries)
		for i := range b.Batteries {
			b.Batteries[i].ChargePercent = math.Floor(b.Batteries[i].ChargePercent / fingerprintChargeQuantum)
		}
		c.Battery = &b
	}
	data, err := json.Marshal(&c)
	if err != nil {
		// Every field of Report marshals; Extra holds RawMessages that were
		// valid JSON when decoded. Fall back to a digest that never matches.
		return "unmarshalable"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
