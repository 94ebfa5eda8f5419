package battery

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
)

func TestParseIoregFixtures(t *testing.T) {
	tests := []struct {
		file    string
		want    []agentapi.Battery
		wantErr error
	}{
		{
			file: "macbookair-m1-discharging.plist", // Apple silicon: capacities at the top, MaxCapacity 100
			want: []agentapi.Battery{{
				Name: "InternalBattery-0", Model: "bq40z651", CapacityUnit: UnitMAh,
				DesignCapacity: 4382, FullChargeCapacity: 3811, HealthPercent: 87,
				CycleCount: 412, ChargePercent: 64, State: StateDischarging,
			}},
		},
		{
			file: "macbookair-m2-macos27-charging.plist", // capacities only inside BatteryData
			want: []agentapi.Battery{{
				Name: "InternalBattery-0", Model: "bq40z651", CapacityUnit: UnitMAh,
				DesignCapacity: 4563, FullChargeCapacity: 4390, HealthPercent: 96.2,
				CycleCount: 58, ChargePercent: 39, State: StateCharging,
			}},
		},
		{
			file: "macbookpro-intel-2015-worn.plist", // Intel: MaxCapacity in mAh, many cycles
			want: []agentapi.Battery{{
				Name: "InternalBattery-0", Vendor: "SMP", Model: "bq20z451", CapacityUnit: UnitMAh,
				DesignCapacity: 6559, FullChargeCapacity: 5394, HealthPercent: 82.2,
				CycleCount: 1021, ChargePercent: 100, State: StateFull,
			}},
		},
		{file: "mac-mini-no-battery.plist", wantErr: ErrNoBattery},
		{file: "imac-intel-no-smartbattery.txt", wantErr: ErrNoBattery},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "ioreg", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			facts, err := ParseIoreg(data)
			checkFacts(t, facts, err, tt.want, tt.wantErr)
		})
	}
}

func plist(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">` + body + `</plist>`)
}

func TestParseIoregCases(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    []agentapi.Battery // nil with wantErr
		wantErr string
	}{
		{
			name: "a single dict instead of an array",
			data: plist(`<dict><key>DesignCapacity</key><integer>5000</integer><key>AppleRawMaxCapacity</key><integer>4500</integer>
				<key>CurrentCapacity</key><integer>50</integer><key>MaxCapacity</key><integer>100</integer>
				<key>ExternalConnected</key><true/><key>IsCharging</key><false/><key>FullyCharged</key><false/></dict>`),
			want: []agentapi.Battery{{Name: "InternalBattery-0", CapacityUnit: UnitMAh, DesignCapacity: 5000, FullChargeCapacity: 4500,
				HealthPercent: 90, CycleCount: -1, ChargePercent: 50, State: StateNotCharging}},
		},
		{
			name: "nominal capacity when the raw one is missing, cycle 0 stays 0",
			data: plist(`<array><dict><key>DesignCapacity</key><integer>4000</integer><key>NominalChargeCapacity</key><integer>3000</integer>
				<key>CycleCount</key><integer>0</integer><key>AppleRawCurrentCapacity</key><integer>1500</integer></dict></array>`),
			want: []agentapi.Battery{{Name: "InternalBattery-0", CapacityUnit: UnitMAh, DesignCapacity: 4000, FullChargeCapacity: 3000,
				HealthPercent: 75, CycleCount: 0, ChargePercent: 50, State: StateUnknown}},
		},
		{
			name: "MaxCapacity 100 is a scale, not a capacity",
			data: plist(`<array><dict><key>DesignCapacity</key><integer>4000</integer><key>MaxCapacity</key><integer>100</integer>
				<key>CurrentCapacity</key><integer>80</integer></dict></array>`),
			want: []agentapi.Battery{{Name: "InternalBattery-0", CapacityUnit: UnitMAh, DesignCapacity: 4000,
				HealthPercent: -1, CycleCount: -1, ChargePercent: 80, State: StateUnknown}},
		},
		{
			name: "NaN, unsigned wrap-around and a real are handled",
			data: plist(`<array><dict><key>DesignCapacity</key><real>4000.0</real><key>AppleRawMaxCapacity</key><integer>18446744073709551615</integer>
				<key>NominalChargeCapacity</key><real>nan</real><key>CurrentCapacity</key><integer>30</integer><key>MaxCapacity</key><integer>100</integer></dict></array>`),
			want: []agentapi.Battery{{Name: "InternalBattery-0", CapacityUnit: UnitMAh, DesignCapacity: 4000,
				HealthPercent: -1, CycleCount: -1, ChargePercent: 30, State: StateUnknown}},
		},
		{
			name: "two entries, one empty bay",
			data: plist(`<array><dict><key>BatteryInstalled</key><false/></dict>
				<dict><key>BatteryInstalled</key><true/><key>CycleCount</key><integer>3</integer></dict></array>`),
			want: []agentapi.Battery{{Name: "InternalBattery-0", CapacityUnit: UnitMAh, HealthPercent: -1, CycleCount: 3, ChargePercent: -1, State: StateUnknown}},
		},
		{name: "not XML", data: []byte("ioreg: command not found"), wantErr: "no property list"},
		{name: "truncated", data: plist(`<array><dict><key>CycleCount</key><integer>3`)[:120], wantErr: "parsing ioreg output"},
		{name: "key without value", data: plist(`<array><dict><key>CycleCount</key></dict></array>`), wantErr: "has no value"},
		{name: "value without key", data: plist(`<array><dict><integer>3</integer></dict></array>`), wantErr: "where a <key> belongs"},
		{name: "bad integer", data: plist(`<array><dict><key>CycleCount</key><integer>12a</integer></dict></array>`), wantErr: "bad integer"},
		{name: "bad data", data: plist(`<array><dict><key>D</key><data>!!!</data></dict></array>`), wantErr: "bad data"},
		{name: "unknown element", data: plist(`<array><dict><key>D</key><set/></dict></array>`), wantErr: "unknown property list element"},
		{name: "entry not a dict", data: plist(`<array><string>x</string></array>`), wantErr: "not a dict"},
		{name: "top level is a string", data: plist(`<string>x</string>`), wantErr: "where an array of entries belongs"},
		{name: "nesting bomb", data: plist(strings.Repeat("<array>", 100) + strings.Repeat("</array>", 100)), wantErr: "nested deeper"},
		{name: "empty plist", data: plist(``), wantErr: "empty property list"},
		{name: "no entries", data: plist(`<array/>`), wantErr: ErrNoBattery.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			facts, err := ParseIoreg(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseIoreg = %+v, %v; want an error saying %q", facts, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(facts.Batteries, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", facts.Batteries, tt.want)
			}
		})
	}
}

func TestParsePlistValues(t *testing.T) {
	v, err := parsePlist(plist(`<dict>
		<key>s</key><string>a &amp; b</string>
		<key>i</key><integer>-587</integer>
		<key>u</key><integer>18446744073709551552</integer>
		<key>r</key><real>28.5</real>
		<key>t</key><true/>
		<key>f</key><false/>
		<key>d</key><data>
		AAEC
		</data>
		<key>date</key><date>2024-03-12T08:00:00Z</date>
		<key>a</key><array><integer>1</integer><array/></array>
		<key>empty</key><dict/>
	</dict>`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": "a & b", "i": int64(-587), "u": uint64(18446744073709551552), "r": 28.5,
		"t": true, "f": false, "d": []byte{0, 1, 2}, "date": "2024-03-12T08:00:00Z",
		"a": []any{int64(1), []any{}}, "empty": map[string]any{},
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("\n got %#v\nwant %#v", v, want)
	}
}

// FuzzParseIoreg feeds arbitrary bytes to the ioreg parser, seeded with the
// fixtures. It must never panic, and what it accepts must be batteries the
// report can carry.
func FuzzParseIoreg(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "ioreg", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		facts, err := ParseIoreg(data)
		if err != nil {
			if facts != nil {
				t.Fatalf("error %v with facts", err)
			}
			return
		}
		if len(facts.Batteries) == 0 {
			t.Fatal("no error and no battery")
		}
		for _, b := range facts.Batteries {
			checkBattery(t, b)
		}
	})
}
