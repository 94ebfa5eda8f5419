package sim

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// FleetUnit is one machine of a described fleet: the serial it reports and
// how its facts differ from a ready loaner's. A demo or a walkthrough
// describes its fleet in a CSV file so that every number parc prints can
// be checked by hand against the file.
type FleetUnit struct {
	Line     int    // line in the file, for error messages
	AssetTag string // for people reading the file; parc matches on Serial
	Serial   string
	// BatteryHealth is full-charge capacity as % of design (0: ready default).
	BatteryHealth int
	// ChargePercent is the battery's charge (0: ready default).
	ChargePercent int
	// DownloadMbps is the last measured bandwidth (0: ready default).
	DownloadMbps float64
	// PendingSecurity counts pending security updates.
	PendingSecurity int
}

// fleetColumns are the columns a fleet file may have; serial is required.
var fleetColumns = map[string]bool{"asset_tag": true, "serial": true, "battery_health": true,
	"charge_percent": true, "download_mbps": true, "pending_security_updates": true}

// maxFleetUnits bounds a fleet file: it is a demo and test tool, not an import.
const maxFleetUnits = 100000

// ReadFleet reads a fleet file: a header line then one machine per line,
// comma separated, with the columns asset_tag, serial, battery_health,
// charge_percent, download_mbps, pending_security_updates (empty = the
// ready loaner's value). Every bad line is reported with its number.
func ReadFleet(r io.Reader) ([]FleetUnit, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("fleet file: reading the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !fleetColumns[h] {
			return nil, fmt.Errorf("fleet file: unknown column %q (known: asset_tag, serial, battery_health, charge_percent, download_mbps, pending_security_updates)", h)
		}
		col[h] = i
	}
	if _, ok := col["serial"]; !ok {
		return nil, errors.New("fleet file: no serial column")
	}
	var units []FleetUnit
	var bad []error
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fleet file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(units) >= maxFleetUnits {
			return nil, fmt.Errorf("fleet file: more than %d machines", maxFleetUnits)
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		u := FleetUnit{Line: line, AssetTag: field("asset_tag"), Serial: field("serial")}
		var lineErrs []string
		if u.Serial == "" {
			lineErrs = append(lineErrs, "serial is empty")
		} else if first, dup := seen[u.Serial]; dup {
			lineErrs = append(lineErrs, fmt.Sprintf("serial %s already on line %d", u.Serial, first))
		} else {
			seen[u.Serial] = line
		}
		for _, f := range []struct {
			name     string
			into     *int
			min, max int
		}{
			{"battery_health", &u.BatteryHealth, 1, 150},
			{"charge_percent", &u.ChargePercent, 0, 100},
			{"pending_security_updates", &u.PendingSecurity, 0, 10000},
		} {
			if v := field(f.name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < f.min || n > f.max {
					lineErrs = append(lineErrs, fmt.Sprintf("%s %q is not a whole number from %d to %d", f.name, v, f.min, f.max))
					continue
				}
				*f.into = n
			}
		}
		if v := field("download_mbps"); v != "" {
			mbps, err := strconv.ParseFloat(v, 64)
			if err != nil || !(mbps > 0 && mbps <= 100000) {
				lineErrs = append(lineErrs, fmt.Sprintf("download_mbps %q is not a number above 0", v))
			}
			u.DownloadMbps = mbps
		}
		if len(lineErrs) > 0 {
			bad = append(bad, fmt.Errorf("line %d: %s", line, strings.Join(lineErrs, "; ")))
			continue
		}
		units = append(units, u)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("fleet file: %w", errors.Join(bad...))
	}
	return units, nil
}

// Apply makes host n's report the facts of u: a ready loaner at now, with
// u's serial and the differences u names.
func (u FleetUnit) Apply(r *agentapi.Report, now time.Time) {
	ReadyLoaner(r, now)
	if u.AssetTag != "" {
		r.Host.Hostname = u.AssetTag
	}
	r.Host.Serial = u.Serial
	b := &r.Battery.Batteries[0]
	if u.BatteryHealth > 0 {
		b.HealthPercent = float64(u.BatteryHealth)
		b.FullChargeCapacity = b.DesignCapacity * float64(u.BatteryHealth) / 100
	}
	if u.ChargePercent > 0 {
		b.ChargePercent = float64(u.ChargePercent)
	}
	if u.DownloadMbps > 0 {
		r.Bandwidth.DownloadMbps = u.DownloadMbps
	}
	r.Updates.PendingSecurity = u.PendingSecurity
	r.Updates.Pending = u.PendingSecurity
}

// fleetHostBase numbers fleet machines apart from load-test machines
// (sim.Host(1..N)), so their MACs and UUIDs never collide.
const fleetHostBase = 900000

// ReportFleet enrolls one simulated agent per fleet unit with token and
// sends its report once: what a described fleet looks like to parc after
// one check-in each. It stops at the first failure, naming the unit.
func ReportFleet(ctx context.Context, serverURL string, hc *http.Client, token string, units []FleetUnit) error {
	now := time.Now()
	for i, u := range units {
		host := Host(fleetHostBase + i)
		host.Serial = u.Serial
		if u.AssetTag != "" {
			host.Hostname = u.AssetTag
		}
		a, err := Enroll(ctx, serverURL, hc, token, host)
		if err != nil {
			return fmt.Errorf("line %d (%s): %w", u.Line, u.Serial, err)
		}
		u.Apply(&a.Report, now)
		if _, err := a.Send(ctx); err != nil {
			return fmt.Errorf("line %d (%s): reporting: %w", u.Line, u.Serial, err)
		}
	}
	return nil
}
