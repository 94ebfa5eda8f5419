package battery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
)

// ReadSysfs reads the batteries that the Linux power-supply class lists
// under root/class/power_supply, root being where sysfs is mounted ("/sys",
// or a fixture tree in tests). It keeps supplies of type Battery that power
// the system: it skips chargers, USB ports, batteries of peripherals
// (scope Device: mice, keyboards, headsets) and empty bays (present 0).
//
// Capacities come from energy_* files (µWh, reported in mWh) when the driver
// gives them, else from charge_* files (µAh, reported in mAh). An attribute
// that cannot be read or parsed leaves its field unknown and is named in
// the error returned with the facts.
func ReadSysfs(root string) (*agentapi.BatteryFacts, error) {
	class := filepath.Join(root, "class", "power_supply")
	des, err := os.ReadDir(class)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoBattery // no power-supply class: a container, or a VM without ACPI power
	}
	if err != nil {
		return nil, fmt.Errorf("listing power supplies: %w", err)
	}
	var batteries []agentapi.Battery
	var errs []error
	for _, de := range des {
		// Entries are symlinks into /sys/devices: stat what they point to.
		dir := filepath.Join(class, de.Name())
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		b, ok, err := readSupply(dir, de.Name())
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			batteries = append(batteries, b)
		}
	}
	return result(batteries, errs)
}

// supply reads the attributes of one power-supply directory, remembering
// what it could not read.
type supply struct {
	dir, name string
	errs      []error
}

// text returns attribute attr, trimmed; "" when the driver does not
// provide it.
func (s *supply) text(attr string) string {
	data, err := os.ReadFile(filepath.Join(s.dir, attr))
	if err != nil {
		// Absent is normal; anything else (EIO, ENODEV from a firmware
		// that lost the pack) is worth telling.
		if !errors.Is(err, fs.ErrNotExist) {
			s.errs = append(s.errs, fmt.Errorf("battery %s: reading %s: %w", s.name, attr, err))
		}
		return ""
	}
	return strings.TrimSpace(string(data))
}

// number returns attribute attr as an integer, and whether it is there.
func (s *supply) number(attr string) (int64, bool) {
	v := s.text(attr)
	if v == "" {
		return 0, false
	}
	n, err := parseSysfsInt(v)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("battery %s: %s: %w", s.name, attr, err))
		return 0, false
	}
	return n, true
}

func readSupply(dir, name string) (agentapi.Battery, bool, error) {
	s := &supply{dir: dir, name: name}
	if s.text("type") != "Battery" {
		return agentapi.Battery{}, false, errors.Join(s.errs...)
	}
	if s.text("scope") == "Device" {
		return agentapi.Battery{}, false, errors.Join(s.errs...)
	}
	if p, ok := s.number("present"); ok && p == 0 {
		return agentapi.Battery{}, false, errors.Join(s.errs...)
	}

	b := agentapi.Battery{
		Name:          name,
		Vendor:        s.text("manufacturer"),
		Model:         s.text("model_name"),
		CycleCount:    -1,
		ChargePercent: -1,
		State:         sysfsState(s.text("status")),
	}

	// Prefer energy (mWh): it is what the laptop makers quote and it does
	// not drift with the pack's voltage. Drivers give one family or, rarely
	// (ChromeOS sbs-battery), both.
	eDesign, okED := s.number("energy_full_design")
	eFull, okEF := s.number("energy_full")
	eNow, okEN := s.number("energy_now")
	cDesign, okCD := s.number("charge_full_design")
	cFull, okCF := s.number("charge_full")
	cNow, okCN := s.number("charge_now")
	useEnergy := okED || okEF
	if useEnergy && !(okED && okEF) && okCD && okCF {
		useEnergy = false // only the charge family is complete
	}
	var now int64
	var okNow bool
	switch {
	case useEnergy:
		b.CapacityUnit = UnitMWh
		b.DesignCapacity, b.FullChargeCapacity = micro(eDesign), micro(eFull)
		now, okNow = eNow, okEN
	case okCD || okCF:
		b.CapacityUnit = UnitMAh
		b.DesignCapacity, b.FullChargeCapacity = micro(cDesign), micro(cFull)
		now, okNow = cNow, okCN
	}
	b.HealthPercent = healthPercent(b.FullChargeCapacity, b.DesignCapacity)

	if n, ok := s.number("cycle_count"); ok && n > 0 {
		b.CycleCount = int(min(n, 1<<31-1))
	}
	if c, ok := s.number("capacity"); ok && c >= 0 && c <= 100 {
		b.ChargePercent = float64(c)
	} else if okNow {
		b.ChargePercent = chargePercent(micro(now), b.FullChargeCapacity)
	}
	return b, true, errors.Join(s.errs...)
}

// micro converts sysfs micro-units (µWh, µAh) to milli-units, keeping the
// fraction: 45730500 µWh is 45730.5 mWh. Negative values are nonsense for
// capacities and read as unknown.
func micro(v int64) float64 {
	if v <= 0 {
		return 0
	}
	return float64(v) / 1000
}

// parseSysfsInt parses one integer attribute as the kernel prints it: a
// decimal number and a newline.
func parseSysfsInt(s string) (int64, error) {
	v := strings.TrimSpace(s)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", truncate(v, 32))
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sysfsState maps the power-supply status attribute.
func sysfsState(status string) string {
	switch status {
	case "Charging":
		return StateCharging
	case "Discharging":
		return StateDischarging
	case "Full":
		return StateFull
	case "Not charging":
		return StateNotCharging
	}
	return StateUnknown
}
