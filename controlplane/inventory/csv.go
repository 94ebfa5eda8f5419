package inventory

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Limits of an inventory file: far above a province's 100,000 units per
// file, low enough that a wrong upload cannot exhaust the server.
const (
	MaxImportBytes = 32 << 20
	MaxImportRows  = 200_000
)

// Columns of the inventory CSV, in export order.
const (
	colAssetTag     = "asset_tag"
	colSerial       = "serial"
	colModel        = "model"
	colPurchaseDate = "purchase_date"
	colSite         = "site"
	colRole         = "role"
	colAssignedSite = "assigned_site"
	colClassroom    = "classroom"
	colCart         = "cart"
	colSlot         = "slot"
	colCartSlots    = "cart_slots"
	colHardwareUUID = "hardware_uuid"
	colMAC          = "mac"
)

var columnOrder = []string{colAssetTag, colSerial, colModel, colPurchaseDate, colSite, colRole, colAssignedSite,
	colClassroom, colCart, colSlot, colCartSlots, colHardwareUUID, colMAC}

// frenchHeaders are the French headers the export writes with --lang fr.
var frenchHeaders = map[string]string{
	colAssetTag: "numéro d'inventaire", colSerial: "numéro de série", colModel: "modèle",
	colPurchaseDate: "date d'achat", colSite: "établissement", colRole: "rôle",
	colAssignedSite: "affecté à", colClassroom: "classe", colCart: "chariot", colSlot: "emplacement",
	colCartSlots: "emplacements du chariot", colHardwareUUID: "uuid matériel", colMAC: "adresse mac",
}

// headerAliases maps normalised header names, in English and French, to
// columns. Normalised: lower case, accents removed, runs of spaces, '_',
// '-', '.' and apostrophes made one space.
var headerAliases = map[string]string{
	"asset tag": colAssetTag, "tag": colAssetTag, "asset": colAssetTag, "inventory number": colAssetTag,
	"numero d inventaire": colAssetTag, "no inventaire": colAssetTag, "n inventaire": colAssetTag,
	"etiquette": colAssetTag, "numero inventaire": colAssetTag, "code barre": colAssetTag,
	"serial": colSerial, "serial number": colSerial, "numero de serie": colSerial, "n de serie": colSerial,
	"no de serie": colSerial, "serie": colSerial,
	"model": colModel, "modele": colModel,
	"purchase date": colPurchaseDate, "purchased": colPurchaseDate, "date d achat": colPurchaseDate, "achat": colPurchaseDate,
	"site": colSite, "school": colSite, "etablissement": colSite, "ecole": colSite,
	"role": colRole, "usage": colRole, "type": colRole,
	"assigned site": colAssignedSite, "assigned to": colAssignedSite, "affecte a": colAssignedSite,
	"site d affectation": colAssignedSite, "affectation": colAssignedSite,
	"classroom": colClassroom, "room": colClassroom, "classe": colClassroom, "salle": colClassroom,
	"cart": colCart, "cabinet": colCart, "chariot": colCart, "armoire": colCart, "armoire de charge": colCart,
	"slot": colSlot, "emplacement": colSlot, "case": colSlot,
	"cart slots": colCartSlots, "slots": colCartSlots, "emplacements du chariot": colCartSlots, "emplacements": colCartSlots,
	"hardware uuid": colHardwareUUID, "uuid": colHardwareUUID, "uuid materiel": colHardwareUUID,
	"mac": colMAC, "mac address": colMAC, "adresse mac": colMAC,
}

// roleAliases accepts roles as people write them, in English and French.
var roleAliases = map[string]string{
	"loaner": RoleLoaner, "loan": RoleLoaner, "pret": RoleLoaner, "portable de pret": RoleLoaner,
	"classroom": RoleClassroom, "classe": RoleClassroom, "poste de classe": RoleClassroom, "pc de classe": RoleClassroom,
	"teacher": RoleTeacher, "enseignant": RoleTeacher, "enseignante": RoleTeacher,
	"kiosk": RoleKiosk, "borne": RoleKiosk, "kiosque": RoleKiosk, "station blanche": RoleKiosk,
	"spare": RoleSpare, "reserve": RoleSpare, "rechange": RoleSpare, "stock": RoleSpare,
}

// normalize folds a header or role for comparison.
func normalize(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	folded = strings.ToLower(folded)
	folded = strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', '\'', '’', '°', '/':
			return ' '
		}
		return r
	}, folded)
	return strings.Join(strings.Fields(folded), " ")
}

// FileError is a problem with the file as a whole (not UTF-8, too large,
// too many rows), as opposed to problems of some rows.
type FileError struct{ Msg string }

func (e *FileError) Error() string { return e.Msg }

// Row is one parsed data row of an inventory file.
type Row struct {
	Line int
	Unit Unit
	// CartSlots is the size of the unit's cart when the file gives it, so
	// that an import can create the cart.
	CartSlots int
}

// RowError is what is wrong with one line of an inventory file.
type RowError struct {
	Line     int    `json:"line"`
	AssetTag string `json:"asset_tag,omitempty"`
	Message  string `json:"message"`
}

// ParseCSV reads an inventory file as people export it from a spreadsheet:
// English or French headers, comma or semicolon separated, UTF-8 with or
// without a byte-order mark. It returns the rows it could read and one
// error per bad line; a header problem is an error of line 1. Unknown
// columns are reported in ignored.
func ParseCSV(r io.Reader) (rows []Row, rowErrs []RowError, ignored []string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the file: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, nil, nil, &FileError{fmt.Sprintf("file larger than %d MiB", MaxImportBytes>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, nil, nil, &FileError{`file is not UTF-8 text (save it from your spreadsheet as "CSV UTF-8")`}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffDelimiter(data)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err != nil {
		return nil, nil, nil, &FileError{fmt.Sprintf("line 1: reading the header: %v", err)}
	}
	cols := make([]string, len(header))
	seen := map[string]int{}
	for i, h := range header {
		col, ok := headerAliases[normalize(h)]
		if !ok {
			if strings.TrimSpace(h) != "" {
				ignored = append(ignored, h)
			}
			continue
		}
		if prev, dup := seen[col]; dup {
			rowErrs = append(rowErrs, RowError{Line: 1, Message: fmt.Sprintf("columns %q and %q both mean %s", header[prev], h, col)})
		}
		seen[col] = i
		cols[i] = col
	}
	for _, need := range []string{colAssetTag, colSite, colRole} {
		if _, ok := seen[need]; !ok {
			rowErrs = append(rowErrs, RowError{Line: 1, Message: fmt.Sprintf("no %s column (headers such as %q)", need, exampleHeader(need))})
		}
	}
	if len(rowErrs) > 0 {
		return nil, rowErrs, ignored, nil
	}

	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rowErrs = append(rowErrs, RowError{Line: pe.Line, Message: pe.Err.Error()})
				continue
			}
			return nil, nil, nil, &FileError{fmt.Sprintf("reading the file: %v", err)}
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rows)+len(rowErrs) >= MaxImportRows {
			return nil, nil, nil, &FileError{fmt.Sprintf("more than %d rows: split the file", MaxImportRows)}
		}
		row, problems := parseRow(line, rec, cols)
		if len(problems) > 0 {
			rowErrs = append(rowErrs, RowError{Line: line, AssetTag: row.Unit.AssetTag, Message: strings.Join(problems, "; ")})
			continue
		}
		rows = append(rows, row)
	}
	return rows, rowErrs, ignored, nil
}

func exampleHeader(col string) string {
	return col + `" or "` + frenchHeaders[col]
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// sniffDelimiter picks ';' or ',' from the header line: French spreadsheets
// write ';' because ',' is their decimal separator.
func sniffDelimiter(data []byte) rune {
	first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		return ';'
	}
	return ','
}

func parseRow(line int, rec []string, cols []string) (Row, []string) {
	row := Row{Line: line}
	var problems []string
	roleReported := false
	u := &row.Unit
	for i, v := range rec {
		if i >= len(cols) || cols[i] == "" {
			continue
		}
		v = strings.TrimSpace(v)
		switch cols[i] {
		case colAssetTag:
			u.AssetTag = v
		case colSerial:
			u.Serial = v
		case colModel:
			u.Model = v
		case colPurchaseDate:
			d, err := parseDate(v)
			if err != nil {
				problems = append(problems, err.Error())
			}
			u.PurchaseDate = d
		case colSite:
			u.Site = v
		case colRole:
			role, ok := roleAliases[normalize(v)]
			if !ok {
				roleReported = true
				problems = append(problems, fmt.Sprintf("unknown role %q (want loaner, classroom, teacher, kiosk or spare; or prêt, classe, enseignant, borne, réserve)", v))
			}
			u.Role = role
		case colAssignedSite:
			u.AssignedSite = v
		case colClassroom:
			u.Classroom = v
		case colCart:
			u.Cart = v
		case colSlot:
			n, err := optionalInt(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("slot %q: want a number", v))
			}
			u.Slot = n
		case colCartSlots:
			n, err := optionalInt(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("cart slots %q: want a number", v))
			}
			row.CartSlots = n
		case colHardwareUUID:
			u.HardwareUUID = v
		case colMAC:
			u.MAC = v
		}
	}
	for _, p := range u.Validate() {
		if !(roleReported && strings.HasPrefix(p, "unknown role")) {
			problems = append(problems, p)
		}
	}
	return row, problems
}

func optionalInt(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

// parseDate accepts ISO dates and the day-first dates French spreadsheets
// write, and returns YYYY-MM-DD.
func parseDate(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, layout := range []string{time.DateOnly, "02/01/2006", "2/1/2006", "02-01-2006", "02.01.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", fmt.Errorf("purchase date %q: want YYYY-MM-DD or DD/MM/YYYY", s)
}

// WriteCSV writes units in the import format, English headers and commas,
// or with lang "fr" French headers and semicolons, sorted by asset tag.
// Reading the result back with ParseCSV gives the same units.
func WriteCSV(w io.Writer, snap *Snapshot, lang string) error {
	cw := csv.NewWriter(w)
	header := columnOrder
	if lang == "fr" {
		cw.Comma = ';'
		header = make([]string, len(columnOrder))
		for i, c := range columnOrder {
			header[i] = frenchHeaders[c]
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, tag := range slices.Sorted(maps.Keys(snap.Units)) {
		u := snap.Units[tag]
		slots := ""
		if c, ok := snap.Carts[u.Cart]; ok {
			slots = strconv.Itoa(c.Slots)
		}
		slot := ""
		if u.Slot > 0 {
			slot = strconv.Itoa(u.Slot)
		}
		rec := []string{u.AssetTag, u.Serial, u.Model, u.PurchaseDate, u.Site, u.Role, u.AssignedSite,
			u.Classroom, u.Cart, slot, slots, u.HardwareUUID, u.MAC}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
