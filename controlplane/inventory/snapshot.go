package inventory

import (
	"fmt"
	"sort"
)

// Snapshot is the whole declared inventory at one etcd revision. Writes
// are validated against a snapshot and committed only if no other
// inventory write happened since it was read (compare on the revision of
// the inventory generation key).
type Snapshot struct {
	// GenRev is the mod revision of meta/inventory-gen the snapshot reflects.
	GenRev     int64
	Sites      map[string]Site
	Classrooms map[string]Classroom
	Carts      map[string]Cart
	Units      map[string]Unit
}

func newSnapshot() *Snapshot {
	return &Snapshot{Sites: map[string]Site{}, Classrooms: map[string]Classroom{}, Carts: map[string]Cart{}, Units: map[string]Unit{}}
}

// slotKey names one slot of one cart.
type slotKey struct {
	cart string
	slot int
}

// slots maps each occupied cart slot to the units in it.
func (s *Snapshot) slots() map[slotKey][]string {
	out := map[slotKey][]string{}
	for _, u := range s.Units {
		if u.Cart != "" {
			k := slotKey{u.Cart, u.Slot}
			out[k] = append(out[k], u.AssetTag)
		}
	}
	return out
}

// checkRefs checks a unit's references against the snapshot: its sites,
// classroom and cart exist, the classroom and cart are at the site the unit
// is placed at, and its slot exists.
func (s *Snapshot) checkRefs(u Unit) []string {
	var errs []string
	if _, ok := s.Sites[u.Site]; !ok {
		errs = append(errs, fmt.Sprintf("unknown site %q", u.Site))
	}
	if u.AssignedSite != "" {
		if _, ok := s.Sites[u.AssignedSite]; !ok {
			errs = append(errs, fmt.Sprintf("unknown assigned site %q", u.AssignedSite))
		}
	}
	if u.Classroom != "" {
		c, ok := s.Classrooms[u.Classroom]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("unknown classroom %q", u.Classroom))
		case c.Site != u.PlacedAt():
			errs = append(errs, fmt.Sprintf("classroom %s is at site %s, the unit at site %s", c.ID, c.Site, u.PlacedAt()))
		}
	}
	if u.Cart != "" {
		c, ok := s.Carts[u.Cart]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("unknown cart %q", u.Cart))
		case c.Site != u.PlacedAt():
			errs = append(errs, fmt.Sprintf("cart %s is at site %s, the unit at site %s", c.ID, c.Site, u.PlacedAt()))
		case u.Slot > c.Slots:
			errs = append(errs, fmt.Sprintf("slot %d beyond cart %s's %d slots", u.Slot, c.ID, c.Slots))
		}
	}
	return errs
}

// slotTaken returns the asset tag of another unit in u's slot, if any.
func (s *Snapshot) slotTaken(u Unit) string {
	if u.Cart == "" {
		return ""
	}
	var others []string
	for _, o := range s.Units {
		if o.AssetTag != u.AssetTag && o.Cart == u.Cart && o.Slot == u.Slot {
			others = append(others, o.AssetTag)
		}
	}
	sort.Strings(others)
	if len(others) == 0 {
		return ""
	}
	return others[0]
}

// users lists what refers to a site, classroom or cart, to refuse deleting
// something still in use.
func (s *Snapshot) users(kind, id string) []string {
	var out []string
	for _, u := range s.Units {
		switch {
		case kind == "site" && (u.Site == id || u.AssignedSite == id),
			kind == "classroom" && u.Classroom == id,
			kind == "cart" && u.Cart == id:
			out = append(out, "unit "+u.AssetTag)
		}
	}
	if kind == "site" {
		for _, c := range s.Classrooms {
			if c.Site == id {
				out = append(out, "classroom "+c.ID)
			}
		}
		for _, c := range s.Carts {
			if c.Site == id {
				out = append(out, "cart "+c.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}
