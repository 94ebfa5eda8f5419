package battery

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
)

func TestReadSysfsFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    []agentapi.Battery
		wantErr error
	}{
		{
			fixture: "thinkpad-e590-worn", // energy-based, worn, many cycles
			want: []agentapi.Battery{{
				Name: "BAT0", Vendor: "Celxpert", Model: "01AV448", CapacityUnit: UnitMWh,
				DesignCapacity: 45730, FullChargeCapacity: 36610, HealthPercent: 80.1,
				CycleCount: 877, ChargePercent: 82, State: StateDischarging,
			}},
		},
		{
			fixture: "dell-xps15-9560", // charge-based, cycle_count 0, a wireless mouse beside it
			want: []agentapi.Battery{{
				Name: "BAT0", Vendor: "LGC-LGC4.64", Model: "DELL 5D91C78", CapacityUnit: UnitMAh,
				DesignCapacity: 4912, FullChargeCapacity: 4901, HealthPercent: 99.8,
				CycleCount: -1, ChargePercent: 92, State: StateDischarging,
			}},
		},
		{
			fixture: "macbookpro-2016-worn", // charge-based, half worn out, on mains and full
			want: []agentapi.Battery{{
				Name: "BAT0", Vendor: "SMP", Model: "bq20z451", CapacityUnit: UnitMAh,
				DesignCapacity: 4790, FullChargeCapacity: 2550, HealthPercent: 53.2,
				CycleCount: 183, ChargePercent: 100, State: StateFull,
			}},
		},
		{
			fixture: "lenovo-over-design-empty-bay", // full above design, second bay empty
			want: []agentapi.Battery{{
				Name: "BAT0", Vendor: "LGC", Model: "02DL007", CapacityUnit: UnitMWh,
				DesignCapacity: 50500, FullChargeCapacity: 51480, HealthPercent: 101.9,
				CycleCount: 819, ChargePercent: 88, State: StateDischarging,
			}},
		},
		{fixture: "desktop-wireless-mouse", wantErr: ErrNoBattery},
		{fixture: "desktop-ac-only", wantErr: ErrNoBattery},
		{fixture: "no-such-machine", wantErr: ErrNoBattery},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			facts, err := ReadSysfs(filepath.Join("testdata", "sysfs", tt.fixture))
			checkFacts(t, facts, err, tt.want, tt.wantErr)
		})
	}
}

// writeSupply builds class/power_supply/<name> under root from attr=value
// pairs. An attribute whose value is "<dir>" is made a directory, which
// reading fails on like a sysfs file whose driver answers EIO.
func writeSupply(t *testing.T, root, name string, attrs ...string) {
	t.Helper()
	dir := filepath.Join(root, "class", "power_supply", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, kv := range attrs {
		k, v, _ := strings.Cut(kv, "=")
		if v == "<dir>" {
			if err := os.Mkdir(filepath.Join(dir, k), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadSysfsEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		attrs   []string
		want    agentapi.Battery
		wantErr string // in the error returned with the facts
	}{
		{
			name:  "both families: energy wins",
			attrs: []string{"type=Battery", "energy_full_design=39940000", "energy_full=35170000", "charge_full_design=4865000", "charge_full=4284000", "cycle_count=8", "capacity=99", "status=Full"},
			want:  agentapi.Battery{CapacityUnit: UnitMWh, DesignCapacity: 39940, FullChargeCapacity: 35170, HealthPercent: 88.1, CycleCount: 8, ChargePercent: 99, State: StateFull},
		},
		{
			name:  "energy incomplete, charge complete: charge",
			attrs: []string{"type=Battery", "energy_now=20000000", "charge_full_design=5000000", "charge_full=4000000", "charge_now=1000000"},
			want:  agentapi.Battery{CapacityUnit: UnitMAh, DesignCapacity: 5000, FullChargeCapacity: 4000, HealthPercent: 80, CycleCount: -1, ChargePercent: 25, State: StateUnknown},
		},
		{
			name:  "no design capacity: health unknown, not 0",
			attrs: []string{"type=Battery", "energy_full=40000000", "energy_now=10000000", "status=Not charging"},
			want:  agentapi.Battery{CapacityUnit: UnitMWh, FullChargeCapacity: 40000, HealthPercent: -1, CycleCount: -1, ChargePercent: 25, State: StateNotCharging},
		},
		{
			name:  "design capacity 0 from broken firmware",
			attrs: []string{"type=Battery", "energy_full_design=0", "energy_full=40000000", "capacity=50", "status=Charging"},
			want:  agentapi.Battery{CapacityUnit: UnitMWh, FullChargeCapacity: 40000, HealthPercent: -1, CycleCount: -1, ChargePercent: 50, State: StateCharging},
		},
		{
			name:  "capacity only (a phone-class gauge)",
			attrs: []string{"type=Battery", "scope=System", "capacity=43", "status=Discharging"},
			want:  agentapi.Battery{HealthPercent: -1, CycleCount: -1, ChargePercent: 43, State: StateDischarging},
		},
		{
			name:    "garbage value is named, the rest stands",
			attrs:   []string{"type=Battery", "energy_full_design=45280000", "energy_full=46590000", "cycle_count=lots", "capacity=61"},
			want:    agentapi.Battery{CapacityUnit: UnitMWh, DesignCapacity: 45280, FullChargeCapacity: 46590, HealthPercent: 102.9, CycleCount: -1, ChargePercent: 61, State: StateUnknown},
			wantErr: `cycle_count: not an integer: "lots"`,
		},
		{
			name:    "unreadable attribute is named, the rest stands",
			attrs:   []string{"type=Battery", "energy_full_design=<dir>", "energy_full=46590000", "capacity=15", "status=Discharging"},
			want:    agentapi.Battery{CapacityUnit: UnitMWh, FullChargeCapacity: 46590, HealthPercent: -1, CycleCount: -1, ChargePercent: 15, State: StateDischarging},
			wantErr: "reading energy_full_design",
		},
		{
			name:  "capacity out of range falls back to now over full",
			attrs: []string{"type=Battery", "charge_full_design=3000000", "charge_full=3000000", "charge_now=1500000", "capacity=250"},
			want:  agentapi.Battery{CapacityUnit: UnitMAh, DesignCapacity: 3000, FullChargeCapacity: 3000, HealthPercent: 100, CycleCount: -1, ChargePercent: 50, State: StateUnknown},
		},
		{
			name:  "negative cycle count",
			attrs: []string{"type=Battery", "cycle_count=-1", "capacity=70"},
			want:  agentapi.Battery{HealthPercent: -1, CycleCount: -1, ChargePercent: 70, State: StateUnknown},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeSupply(t, root, "BAT0", tt.attrs...)
			writeSupply(t, root, "AC", "type=Mains", "online=1")
			facts, err := ReadSysfs(root)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ReadSysfs: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			}
			if facts == nil || len(facts.Batteries) != 1 {
				t.Fatalf("facts %+v, want one battery", facts)
			}
			want := tt.want
			want.Name = "BAT0"
			if got := facts.Batteries[0]; !reflect.DeepEqual(got, want) {
				t.Fatalf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestReadSysfsSkips(t *testing.T) {
	root := t.TempDir()
	writeSupply(t, root, "hid-00:11:22:33:44:55-battery", "type=Battery", "scope=Device", "capacity=72")
	writeSupply(t, root, "BAT1", "type=Battery", "present=0")
	writeSupply(t, root, "ucsi-source-psy-USBC000:001", "type=USB", "online=0")
	writeSupply(t, root, "weird", "capacity=10") // no type: not a battery
	if facts, err := ReadSysfs(root); !errors.Is(err, ErrNoBattery) {
		t.Fatalf("ReadSysfs = %+v, %v; want ErrNoBattery", facts, err)
	}
	// A symlinked entry, as in the real /sys/class/power_supply.
	dev := filepath.Join(root, "devices", "LNXSYSTM:00", "PNP0C0A:00", "power_supply", "BAT0")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"type": "Battery", "capacity": "55"} {
		if err := os.WriteFile(filepath.Join(dev, k), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(dev, filepath.Join(root, "class", "power_supply", "BAT0")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	facts, err := ReadSysfs(root)
	if err != nil || len(facts.Batteries) != 1 || facts.Batteries[0].ChargePercent != 55 {
		t.Fatalf("ReadSysfs through a symlink = %+v, %v", facts, err)
	}
}

func TestParseSysfsInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"45730000\n", 45730000, true},
		{"0\n", 0, true},
		{"-1\n", -1, true},
		{"  82  \n", 82, true},
		{"", 0, false},
		{"\n", 0, false},
		{"12.5\n", 0, false},
		{"0x10\n", 0, false},
		{"99999999999999999999\n", 0, false},
		{"N/A\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSysfsInt(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseSysfsInt(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseSysfsValue checks the sysfs value parser never panics and that
// what it accepts is the number written.
func FuzzParseSysfsValue(f *testing.F) {
	for _, s := range []string{"45730000\n", "0", "-1", " 7 ", "", "1e3", "+5", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSysfsInt(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("error with value %d", n)
			}
			return
		}
		if m, err := parseSysfsInt(strconv.FormatInt(n, 10) + "\n"); err != nil || m != n {
			t.Fatalf("%d does not read back: %d, %v", n, m, err)
		}
		if strings.TrimSpace(s) == "" {
			t.Fatalf("accepted blank %q", s)
		}
	})
}

// TestCollectHere runs the platform collector on this machine. The build
// VM has no battery and must say so; a laptop must give sane facts.
func TestCollectHere(t *testing.T) {
	facts, err := Collect(context.Background())
	if errors.Is(err, ErrNoBattery) {
		if facts != nil {
			t.Fatalf("ErrNoBattery with facts %+v", facts)
		}
		t.Log("no battery on this machine")
		return
	}
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("battery facts are not read on this platform: %v", err)
	}
	if facts == nil {
		t.Fatalf("Collect: %v", err)
	}
	if err != nil {
		t.Logf("partial: %v", err)
	}
	for _, b := range facts.Batteries {
		checkBattery(t, b)
	}
}

// checkFacts asserts a collector's result: the batteries want, or the
// error wantErr and no facts.
func checkFacts(t *testing.T, facts *agentapi.BatteryFacts, err error, want []agentapi.Battery, wantErr error) {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) || facts != nil {
			t.Fatalf("got %+v, %v; want %v", facts, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(facts.Batteries, want) {
		t.Fatalf("batteries\n got %+v\nwant %+v", facts.Batteries, want)
	}
	for _, b := range facts.Batteries {
		checkBattery(t, b)
	}
}

// checkBattery asserts the invariants every collector keeps.
func checkBattery(t *testing.T, b agentapi.Battery) {
	t.Helper()
	for name, v := range map[string]float64{"design": b.DesignCapacity, "full": b.FullChargeCapacity, "health": b.HealthPercent, "charge": b.ChargePercent} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s is %v: %+v", name, v, b)
		}
	}
	if b.HealthPercent != -1 && b.HealthPercent <= 0 {
		t.Fatalf("health %v: %+v", b.HealthPercent, b)
	}
	if b.ChargePercent != -1 && (b.ChargePercent < 0 || b.ChargePercent > 100) {
		t.Fatalf("charge %v: %+v", b.ChargePercent, b)
	}
	if b.CycleCount < -1 || b.DesignCapacity < 0 || b.FullChargeCapacity < 0 {
		t.Fatalf("negative values: %+v", b)
	}
	switch b.State {
	case StateCharging, StateDischarging, StateFull, StateNotCharging, StateUnknown:
	default:
		t.Fatalf("state %q: %+v", b.State, b)
	}
	switch b.CapacityUnit {
	case UnitMWh, UnitMAh, UnitRelative, "":
	default:
		t.Fatalf("unit %q: %+v", b.CapacityUnit, b)
	}
	if _, err := json.Marshal(b); err != nil {
		t.Fatalf("does not marshal: %v", err)
	}
}
