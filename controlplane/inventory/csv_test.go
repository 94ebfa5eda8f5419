package inventory

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestParseFrenchSpreadsheet(t *testing.T) {
	f, err := os.Open("testdata/french-semicolon.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, rowErrs, ignored, err := ParseCSV(f)
	if err != nil || len(rowErrs) > 0 || len(ignored) > 0 {
		t.Fatalf("err %v, row errors %+v, ignored %v", err, rowErrs, ignored)
	}
	want := []Row{
		{Line: 2, CartSlots: 16, Unit: Unit{AssetTag: "PRET-001", Serial: "PF1", Model: "ThinkPad", PurchaseDate: "2023-08-21", Site: "ecole-a", Role: RoleLoaner, Cart: "ARMOIRE-1", Slot: 1}},
		{Line: 3, CartSlots: 16, Unit: Unit{AssetTag: "PRET-002", Serial: "PF2", Model: "ThinkPad", PurchaseDate: "2023-08-21", Site: "ecole-a", Role: RoleLoaner, Cart: "ARMOIRE-1", Slot: 2}},
		{Line: 4, Unit: Unit{AssetTag: "POSTE-1", Serial: "CZ1", Model: "ProDesk", PurchaseDate: "2020-06-15", Site: "ecole-a", Role: RoleClassroom, Classroom: "salle-1"}},
		{Line: 5, Unit: Unit{AssetTag: "BORNE-1", Serial: "CZ9", Model: "ProDesk", Site: "ecole-b", Role: RoleKiosk}},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name, csv string
		wantErr   string
		ignored   []string
	}{
		{"english with extra column", "Asset Tag,Serial Number,School,Role,Colour\nA,1,s,loaner,red\n", "", []string{"Colour"}},
		{"missing role column", "asset_tag,site\nA,s\n", "no role column", nil},
		{"two columns mean one thing", "asset_tag,tag,site,role\nA,B,s,loaner\n", "both mean asset_tag", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rowErrs, ignored, err := ParseCSV(strings.NewReader(tt.csv))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, e := range rowErrs {
				got += e.Message + ";"
			}
			if tt.wantErr == "" && got != "" || !strings.Contains(got, tt.wantErr) {
				t.Errorf("errors %q, want %q", got, tt.wantErr)
			}
			if strings.Join(ignored, ",") != strings.Join(tt.ignored, ",") {
				t.Errorf("ignored %v, want %v", ignored, tt.ignored)
			}
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	for name, data := range map[string][]byte{
		"latin-1":  []byte("asset_tag,site,role\nA,\xe9cole,loaner\n"),
		"too big":  bytes.Repeat([]byte("x"), MaxImportBytes+1),
		"no lines": nil,
	} {
		if _, _, _, err := ParseCSV(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	for _, name := range []string{"testdata/french-semicolon.csv", "testdata/bad-rows.csv", "../../configs/examples/inventory.csv"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("asset_tag;site;role\n\"A;\"\"\";s;prêt\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, rowErrs, _, err := ParseCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range rows {
			// What parses must be a valid unit, on a real line.
			u := r.Unit
			if errs := u.Validate(); len(errs) > 0 || r.Line < 2 {
				t.Fatalf("row %+v accepted with problems %v", r, errs)
			}
		}
		for _, e := range rowErrs {
			if e.Line < 1 || e.Message == "" {
				t.Fatalf("row error without a line or message: %+v", e)
			}
		}
	})
}
