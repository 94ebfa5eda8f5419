// Package inventory is the declared inventory: what the organisation says
// it owns (sites, classrooms, carts and cabinets, units with their asset
// tags, serials, roles and placements), edited through the admin API or
// imported from the spreadsheets people have.
package inventory

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parc-project/parc/controlplane/store"
)

// Roles a unit can have.
const (
	RoleLoaner    = "loaner"
	RoleClassroom = "classroom"
	RoleTeacher   = "teacher"
	RoleKiosk     = "kiosk"
	RoleSpare     = "spare"
)

// Roles lists every unit role.
var Roles = []string{RoleLoaner, RoleClassroom, RoleTeacher, RoleKiosk, RoleSpare}

// Site is a school or centre.
type Site struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Classroom belongs to a site.
type Classroom struct {
	ID   string `json:"id"`
	Site string `json:"site"`
	Name string `json:"name,omitempty"`
}

// Cart kinds.
const (
	CartKindCart    = "cart"
	CartKindCabinet = "cabinet"
)

// Cart is a charging cart or cabinet with numbered slots, at a site.
type Cart struct {
	ID    string `json:"id"`
	Site  string `json:"site"`
	Name  string `json:"name,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Slots int    `json:"slots"`
}

// Unit is one declared unit. The asset tag is the key people use. It has
// no timestamps: re-importing the same spreadsheet must change nothing
// (the audit log says who changed what when).
type Unit struct {
	AssetTag     string `json:"asset_tag"`
	Serial       string `json:"serial,omitempty"`
	Model        string `json:"model,omitempty"`
	PurchaseDate string `json:"purchase_date,omitempty"` // YYYY-MM-DD
	// Site owns the unit.
	Site string `json:"site"`
	Role string `json:"role"`
	// AssignedSite, when set, is another site the unit is placed at for
	// good (a loaner lent to a neighbouring school): the continuity count
	// of its owning site subtracts it.
	AssignedSite string `json:"assigned_site,omitempty"`
	Classroom    string `json:"classroom,omitempty"`
	Cart         string `json:"cart,omitempty"`
	Slot         int    `json:"slot,omitempty"`
	// HardwareUUID and MAC help match the unit to its agent when the serial
	// is missing or a placeholder.
	HardwareUUID string `json:"hardware_uuid,omitempty"`
	MAC          string `json:"mac,omitempty"`
}

// PlacedAt is the site the unit is at: its assigned site, else its own.
func (u Unit) PlacedAt() string {
	if u.AssignedSite != "" {
		return u.AssignedSite
	}
	return u.Site
}

// Validate checks the fields of a unit on their own; references to sites,
// classrooms and carts are checked against the inventory by Check.
func (u *Unit) Validate() []string {
	var errs []string
	if err := store.ValidID(u.AssetTag); err != nil {
		errs = append(errs, "asset tag: "+err.Error())
	}
	if u.Role = strings.ToLower(strings.TrimSpace(u.Role)); !slices.Contains(Roles, u.Role) {
		errs = append(errs, fmt.Sprintf("unknown role %q (want %s)", u.Role, strings.Join(Roles, ", ")))
	}
	if err := store.ValidID(u.Site); err != nil {
		errs = append(errs, "site: "+err.Error())
	}
	for name, v := range map[string]string{"assigned site": u.AssignedSite, "classroom": u.Classroom, "cart": u.Cart} {
		if v != "" {
			if err := store.ValidID(v); err != nil {
				errs = append(errs, name+": "+err.Error())
			}
		}
	}
	if u.PurchaseDate != "" {
		if _, err := time.Parse(time.DateOnly, u.PurchaseDate); err != nil {
			errs = append(errs, fmt.Sprintf("purchase date %q: want YYYY-MM-DD", u.PurchaseDate))
		}
	}
	if u.Slot != 0 && u.Cart == "" {
		errs = append(errs, "slot given without a cart")
	}
	if u.Cart != "" && u.Slot < 1 {
		errs = append(errs, "cart given without a slot (slots are numbered from 1)")
	}
	if u.Cart != "" && u.Classroom != "" {
		errs = append(errs, "a unit is in a classroom or in a cart, not both")
	}
	for name, v := range map[string]string{"serial": u.Serial, "model": u.Model, "hardware uuid": u.HardwareUUID, "mac": u.MAC} {
		if len(v) > 128 {
			errs = append(errs, name+": longer than 128 characters")
		}
	}
	u.MAC = strings.ToLower(strings.ReplaceAll(u.MAC, "-", ":"))
	u.HardwareUUID = strings.ToLower(u.HardwareUUID)
	return errs
}

// validate checks a site, classroom or cart on its own.
func (s *Site) validate() []string {
	if err := store.ValidID(s.ID); err != nil {
		return []string{"site id: " + err.Error()}
	}
	if len(s.Name) > 256 {
		return []string{"site name: longer than 256 characters"}
	}
	return nil
}

func (c *Classroom) validate() []string {
	var errs []string
	if err := store.ValidID(c.ID); err != nil {
		errs = append(errs, "classroom id: "+err.Error())
	}
	if err := store.ValidID(c.Site); err != nil {
		errs = append(errs, "classroom site: "+err.Error())
	}
	if len(c.Name) > 256 {
		errs = append(errs, "classroom name: longer than 256 characters")
	}
	return errs
}

// MaxCartSlots bounds a cart's size; the largest charging cabinets hold 40.
const MaxCartSlots = 200

func (c *Cart) validate() []string {
	var errs []string
	if err := store.ValidID(c.ID); err != nil {
		errs = append(errs, "cart id: "+err.Error())
	}
	if err := store.ValidID(c.Site); err != nil {
		errs = append(errs, "cart site: "+err.Error())
	}
	if c.Slots < 1 || c.Slots > MaxCartSlots {
		errs = append(errs, fmt.Sprintf("cart %s: %d slots, want 1 to %d", c.ID, c.Slots, MaxCartSlots))
	}
	if c.Kind == "" {
		c.Kind = CartKindCart
	}
	if c.Kind != CartKindCart && c.Kind != CartKindCabinet {
		errs = append(errs, fmt.Sprintf("cart kind %q: want cart or cabinet", c.Kind))
	}
	if len(c.Name) > 256 {
		errs = append(errs, "cart name: longer than 256 characters")
	}
	return errs
}
