package loans_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/servertest"
)

// TestCoordinatorWalkthrough runs the README's coordinator walkthrough on
// the example files and checks the numbers the README says anyone can
// work out by hand from configs/examples/inventory.csv and fleet.csv.
func TestCoordinatorWalkthrough(t *testing.T) {
	s := servertest.StartServer(t, servertest.Options{})
	env := s.Env()
	servertest.Run(t, env, "parcctl", "import", "inventory", "../../configs/examples/inventory.csv")
	token := strings.TrimSpace(servertest.Run(t, env, "parcctl", "enroll-token", "create", "--quiet"))
	f, err := os.Open("../../configs/examples/fleet.csv")
	if err != nil {
		t.Fatal(err)
	}
	units, err := sim.ReadFleet(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ReportFleet(context.Background(), s.URL, s.HTTPClient(), token, units); err != nil {
		t.Fatal(err)
	}

	type want struct{ owned, out, in, atSite, onLoan, notReady, available int }
	check := func(step string, sites map[string]want, total want) {
		t.Helper()
		var got adminapi.ContinuitySummary
		servertest.Eventually(t, 20*time.Second, step, func() (bool, string) {
			out := servertest.Run(t, env, "parcctl", "continuity", "-o", "json")
			got = adminapi.ContinuitySummary{}
			json.Unmarshal([]byte(out), &got)
			ok := len(got.Sites) == len(sites)
			for _, c := range got.Sites {
				w := sites[c.Site]
				ok = ok && c.Owned == w.owned && c.AssignedOut == w.out && c.AssignedIn == w.in && c.AtSite == w.atSite &&
					c.OnLoan == w.onLoan && c.NotReady == w.notReady && c.Available == w.available
			}
			c := got.Total
			ok = ok && c.Owned == total.owned && c.AtSite == total.atSite && c.OnLoan == total.onLoan &&
				c.NotReady == total.notReady && c.Available == total.available
			return ok, out
		})
	}
	// ecole-jaures owns LP-0001…0008; LP-0007/8 are assigned to ecole-curie.
	// Not ready at jaures: LP-0003 (battery 61%), LP-0005 (3 security
	// updates), LP-0006 (never reported). At curie: LP-0008 (6 Mbps).
	check("after the fleet reported",
		map[string]want{"ecole-jaures": {8, 2, 0, 6, 0, 3, 3}, "ecole-curie": {3, 0, 2, 5, 0, 1, 4}},
		want{owned: 11, atSite: 11, notReady: 4, available: 7})
	t.Log("\n" + servertest.Run(t, env, "parcctl", "continuity"))

	servertest.Run(t, env, "parcctl", "loans", "checkout", "LP-0002", "--borrower", "S-1001",
		"--due", "2027-01-15", "--form-signed", "--form-ref", "F-2026-114")
	check("after lending LP-0002",
		map[string]want{"ecole-jaures": {8, 2, 0, 6, 1, 3, 2}, "ecole-curie": {3, 0, 2, 5, 0, 1, 4}},
		want{owned: 11, atSite: 11, onLoan: 1, notReady: 4, available: 6})

	servertest.Run(t, env, "parcctl", "needs", "set", "ecole-jaures", "--category", "no_device", "--count", "4")
	var trig adminapi.Trigger
	json.Unmarshal([]byte(servertest.Run(t, env, "parcctl", "continuity", "--trigger", "-o", "json")), &trig)
	t.Log("\n" + servertest.Run(t, env, "parcctl", "continuity", "--trigger"))
	for _, site := range trig.Sites {
		if site.Site != "ecole-jaures" {
			continue
		}
		var tags []string
		for _, u := range site.Units {
			tags = append(tags, u.Unit)
		}
		// LP-0001 (95% charged) before LP-0004 (40%).
		if site.Go || site.Requests != 4 || site.Shortfall != 2 || strings.Join(tags, ",") != "LP-0001,LP-0004" {
			t.Errorf("ecole-jaures trigger: go %v, requests %d, shortfall %d, units %v; want NO-GO, 4, 2, [LP-0001 LP-0004]",
				site.Go, site.Requests, site.Shortfall, tags)
		}
	}
	if trig.Go {
		t.Error("overall GO with a shortfall at ecole-jaures")
	}
}
