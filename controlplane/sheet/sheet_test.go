package sheet

import (
	"strconv"
	"strings"
	"testing"
)

var format = Format{
	Aliases:  map[string]string{"asset tag": "tag", "numero d inventaire": "tag", "emprunteur": "borrower", "borrower": "borrower"},
	Required: []string{"tag"},
	MaxBytes: 1 << 20, MaxRows: 10, MaxColumns: 4, MaxFieldLen: 20,
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, in  string
		wantRows  int
		wantLines string // line numbers of errors
		wantErr   bool
	}{
		{"french, semicolons, BOM", "\xef\xbb\xbfNuméro d'inventaire;Emprunteur\nLP-1;s-1\n\nLP-2;s-2\n", 2, "", false},
		{"english, commas, extra column", "Asset_Tag,Borrower,Colour\nLP-1,s-1,red\n", 1, "", false},
		{"missing required column", "borrower\ns-1\n", 0, "1", false},
		{"bad quote", "asset tag,borrower\n\"LP-1,s-1\nLP-2,s-2\n", 0, "2", false},
		{"too many values", "asset tag\nA,b,c,d,e\nB\n", 1, "2", false},
		{"value too long", "asset tag\n" + strings.Repeat("x", 21) + "\nB\n", 1, "2", false},
		{"too many rows", "asset tag\n" + strings.Repeat("A\n", 11), 0, "", true},
		{"not UTF-8", "asset tag\n\xe9\n", 0, "", true},
		{"empty", "", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, lineErrs, _, err := Read(strings.NewReader(tt.in), format)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			var lines []string
			for _, e := range lineErrs {
				lines = append(lines, strconv.Itoa(e.Line))
			}
			if len(rows) != tt.wantRows || strings.Join(lines, ",") != tt.wantLines {
				t.Errorf("%d rows, error lines %v (%+v); want %d rows, lines %q", len(rows), lines, lineErrs, tt.wantRows, tt.wantLines)
			}
		})
	}
	rows, _, _, _ := Read(strings.NewReader("Numéro d'inventaire;Emprunteur\nLP-1 ; s-1 \n"), format)
	if rows[0].Get("tag") != "LP-1" || rows[0].Get("borrower") != "s-1" || rows[0].Line != 2 {
		t.Errorf("row %+v", rows[0])
	}
}

func TestBool(t *testing.T) {
	for in, want := range map[string]bool{"oui": true, "Yes": true, "x": true, "": false, "non": false, "NO": false} {
		if got, err := Bool(in); err != nil || got != want {
			t.Errorf("Bool(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := Bool("peut-être"); err == nil {
		t.Error("Bool accepted peut-être")
	}
}

func FuzzRead(f *testing.F) {
	f.Add("\xef\xbb\xbfNuméro d'inventaire;Emprunteur\nLP-1;s-1\n")
	f.Add("asset tag,borrower\n\"a\"\"b\",c\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, lineErrs, _, err := Read(strings.NewReader(in), format)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Line < 2 {
				t.Fatalf("row on line %d", r.Line)
			}
			for _, v := range r.Values {
				if len(v) > format.MaxFieldLen {
					t.Fatalf("value of %d bytes kept", len(v))
				}
			}
		}
		for _, e := range lineErrs {
			if e.Line < 1 || e.Message == "" {
				t.Fatalf("bad line error %+v", e)
			}
		}
	})
}
