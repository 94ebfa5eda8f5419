package inventory

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/parc-project/parc/controlplane/sheet"
)

// Limits of an inventory file: far above a province's 100,000 units per
// file, low enough that a wrong upload cannot exhaust the server.
const (
	MaxImportBytes    = 32 << 20
	MaxImportRows     = 200_000
	MaxImportColumns  = 64
	MaxImportFieldLen = 1024
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

// headerAliases maps normalised header names (sheet.Normalize), in English
// and French, to columns.
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

// FileError is a problem with the file as a whole.
type FileError = sheet.FileError

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

// csvFormat is the inventory file's format.
var csvFormat = sheet.Format{
	Aliases:     headerAliases,
	Required:    []string{colAssetTag, colSite, colRole},
	Example:     map[string]string{colAssetTag: `asset_tag" or "numéro d'inventaire`, colSite: `site" or "établissement`, colRole: `role" or "rôle`},
	MaxBytes:    MaxImportBytes,
	MaxRows:     MaxImportRows,
	MaxColumns:  MaxImportColumns,
	MaxFieldLen: MaxImportFieldLen,
}

// ParseCSV reads an inventory file as people export it from a spreadsheet
// (see package sheet). It returns the rows it could read and one error per
// bad line; a header problem is an error of line 1. Unknown columns are
// reported in ignored.
func ParseCSV(r io.Reader) (rows []Row, rowErrs []RowError, ignored []string, err error) {
	lines, lineErrs, ignored, err := sheet.Read(r, csvFormat)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, e := range lineErrs {
		rowErrs = append(rowErrs, RowError{Line: e.Line, Message: e.Message})
	}
	for _, line := range lines {
		row, problems := parseRow(line)
		if len(problems) > 0 {
			rowErrs = append(rowErrs, RowError{Line: line.Line, AssetTag: row.Unit.AssetTag, Message: strings.Join(problems, "; ")})
			continue
		}
		rows = append(rows, row)
	}
	return rows, rowErrs, ignored, nil
}

func parseRow(line sheet.Row) (Row, []string) {
	row := Row{Line: line.Line}
	var problems []string
	u := &row.Unit
	u.AssetTag, u.Serial, u.Model = line.Get(colAssetTag), line.Get(colSerial), line.Get(colModel)
	u.Site, u.AssignedSite, u.Classroom, u.Cart = line.Get(colSite), line.Get(colAssignedSite), line.Get(colClassroom), line.Get(colCart)
	u.HardwareUUID, u.MAC = line.Get(colHardwareUUID), line.Get(colMAC)
	d, err := sheet.Date(line.Get(colPurchaseDate))
	if err != nil {
		problems = append(problems, "purchase "+err.Error())
	}
	u.PurchaseDate = d
	roleReported := false
	if v := line.Get(colRole); v != "" {
		role, ok := roleAliases[sheet.Normalize(v)]
		if !ok {
			roleReported = true
			problems = append(problems, fmt.Sprintf("unknown role %q (want loaner, classroom, teacher, kiosk or spare; or prêt, classe, enseignant, borne, réserve)", v))
		}
		u.Role = role
	}
	if u.Slot, err = optionalInt(line.Get(colSlot)); err != nil {
		problems = append(problems, fmt.Sprintf("slot %q: want a number", line.Get(colSlot)))
	}
	if row.CartSlots, err = optionalInt(line.Get(colCartSlots)); err != nil {
		problems = append(problems, fmt.Sprintf("cart slots %q: want a number", line.Get(colCartSlots)))
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
