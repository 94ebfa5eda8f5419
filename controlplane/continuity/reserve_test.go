package continuity

import (
	"testing"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func TestReserve(t *testing.T) {
	needs := []adminapi.SiteNeeds{
		{Site: "a", Needs: []adminapi.Need{
			{Category: adminapi.NeedNoDevice, DeviceType: adminapi.DeviceLaptop, Count: 10},
			{Category: adminapi.NeedAtRisk, DeviceType: adminapi.DeviceLaptop, Count: 4},
			{Category: adminapi.NeedSpecialNeeds, DeviceType: adminapi.DeviceTablet, Count: 2},
		}},
		{Site: "b", Needs: []adminapi.Need{{Category: adminapi.NeedNoDevice, DeviceType: adminapi.DeviceLaptop, Count: 3}}},
	}
	r := Reserve(needs, map[string]int{"a": 6, "b": 5})
	want := map[string][3]int{ // site/category/device → needed, supplied, shortfall
		"a/at_risk/laptop":       {4, 4, 0}, // served first
		"a/no_device/laptop":     {10, 2, 8},
		"a/special_needs/tablet": {2, 0, 2}, // no tablets to give
		"b/no_device/laptop":     {3, 3, 0},
	}
	if len(r.Lines) != len(want) {
		t.Fatalf("lines %+v", r.Lines)
	}
	for _, l := range r.Lines {
		k := l.Site + "/" + l.Category + "/" + l.DeviceType
		if w := want[k]; [3]int{l.Needed, l.Supplied, l.Shortfall} != w {
			t.Errorf("%s: %d/%d/%d, want %v", k, l.Needed, l.Supplied, l.Shortfall, w)
		}
	}
	var total adminapi.ReserveLine
	for _, l := range r.Total {
		total.Needed += l.Needed
		total.Supplied += l.Supplied
		total.Shortfall += l.Shortfall
	}
	if total.Needed != 19 || total.Supplied != 9 || total.Shortfall != 10 || total.Needed != total.Supplied+total.Shortfall {
		t.Errorf("total %+v", total)
	}
}
