package continuity

import (
	"slices"

	"github.com/parc-project/parc/controlplane/adminapi"
)

// Reserve compares each site's needs with the loaners it has available,
// allocating them to categories in priority order (Categories), and gives
// the shortfall to request from the ministry's reserve. parc's loaners are
// laptops: tablet needs are all shortfall until tablets are tracked.
func Reserve(needs []adminapi.SiteNeeds, available map[string]int) adminapi.Reserve {
	out := adminapi.Reserve{Lines: []adminapi.ReserveLine{}, Priority: Categories}
	totals := map[[2]string]*adminapi.ReserveLine{}
	for _, sn := range needs {
		supply := map[string]int{adminapi.DeviceLaptop: available[sn.Site]}
		needs := slices.Clone(sn.Needs)
		slices.SortStableFunc(needs, func(a, b adminapi.Need) int {
			return slices.Index(Categories, a.Category) - slices.Index(Categories, b.Category)
		})
		for _, n := range needs {
			give := min(n.Count, supply[n.DeviceType])
			supply[n.DeviceType] -= give
			line := adminapi.ReserveLine{Site: sn.Site, Category: n.Category, DeviceType: n.DeviceType,
				Needed: n.Count, Supplied: give, Shortfall: n.Count - give}
			out.Lines = append(out.Lines, line)
			k := [2]string{n.Category, n.DeviceType}
			t := totals[k]
			if t == nil {
				t = &adminapi.ReserveLine{Category: n.Category, DeviceType: n.DeviceType}
				totals[k] = t
			}
			t.Needed += line.Needed
			t.Supplied += line.Supplied
			t.Shortfall += line.Shortfall
		}
	}
	for _, cat := range Categories {
		for _, dev := range DeviceTypes {
			if t := totals[[2]string{cat, dev}]; t != nil {
				out.Total = append(out.Total, *t)
			}
		}
	}
	return out
}
