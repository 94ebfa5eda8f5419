package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/inventory"
)

func (a *app) continuityCommand() *cobra.Command {
	var site string
	var trigger bool
	cmd := &cobra.Command{
		Use:   "continuity",
		Short: "how many loaners can go out today, per site; --trigger lists which and says go or no-go",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			q := url.Values{"site": {site}, "lang": {a.lang()}}
			if trigger {
				var t adminapi.Trigger
				if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathContinuityTrig+"?"+q.Encode(), nil, &t); err != nil {
					return err
				}
				if a.json() {
					return a.printJSON(t)
				}
				return a.printTrigger(t)
			}
			var s adminapi.ContinuitySummary
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathContinuity+"?"+q.Encode(), nil, &s); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(s)
			}
			return a.printContinuity(s)
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "only this site")
	cmd.Flags().BoolVar(&trigger, "trigger", false, "the units to hand out now, per site, and the go/no-go against the requests recorded")
	return cmd
}

func continuityRow(c adminapi.Continuity, site string) []string {
	return []string{site, fmt.Sprint(c.Owned), fmt.Sprint(c.AssignedOut), fmt.Sprint(c.AssignedIn), fmt.Sprint(c.AtSite),
		fmt.Sprintf("%d (%d staff, %d students)", c.OnLoan, c.OnLoanStaff, c.OnLoanStudents), fmt.Sprint(c.ToRecover),
		fmt.Sprintf("%d (%d unknown)", c.NotReady, c.NotReadyUnknown), fmt.Sprint(c.Available), fmt.Sprint(c.Requests), fmt.Sprint(c.Shortfall)}
}

var continuityHeader = []string{"SITE", "OWNED", "ASSIGNED OUT", "ASSIGNED IN", "AT SITE", "ON LOAN", "TO RECOVER", "NOT READY", "AVAILABLE", "REQUESTS", "SHORTFALL"}

func (a *app) printContinuity(s adminapi.ContinuitySummary) error {
	var rows [][]string
	for _, c := range s.Sites {
		rows = append(rows, continuityRow(c, c.Site))
	}
	if len(s.Sites) > 1 {
		rows = append(rows, continuityRow(s.Total, "TOTAL"))
	}
	if err := a.table(continuityHeader, rows); err != nil {
		return err
	}
	fmt.Fprintln(a.out, s.Arithmetic)
	for _, c := range s.Sites {
		if len(c.NotReadyByRule) > 0 {
			fmt.Fprintf(a.out, "not ready at %s: %s\n", c.Site, counts(c.NotReadyByRule))
		}
	}
	return nil
}

func (a *app) printTrigger(t adminapi.Trigger) error {
	for _, s := range t.Sites {
		verdict := "GO"
		if !s.Go {
			verdict = fmt.Sprintf("NO-GO: %d short", s.Shortfall)
		}
		fmt.Fprintf(a.out, "%s: %d available for %d requests: %s\n", s.Site, s.Available, s.Requests, verdict)
		rows := make([][]string, 0, len(s.Units))
		for i, u := range s.Units {
			where := "-"
			if u.Cart != "" {
				where = fmt.Sprintf("%s slot %d", u.Cart, u.Slot)
			}
			rows = append(rows, []string{fmt.Sprint(i + 1), u.Unit, dash(u.Hostname), where,
				fmt.Sprintf("%.0f%%", u.HealthPercent), fmt.Sprintf("%.0f%%", u.ChargePercent)})
		}
		if len(rows) > 0 {
			if err := a.table([]string{"#", "UNIT", "HOSTNAME", "CART", "BATTERY HEALTH", "CHARGE"}, rows); err != nil {
				return err
			}
		}
		fmt.Fprintln(a.out)
	}
	verdict := "GO: enough loaners for every request recorded"
	if !t.Go {
		verdict = fmt.Sprintf("NO-GO: %d students without a loaner (see parcctl reserve for the request to the ministry's reserve)", t.Total.Shortfall)
	}
	fmt.Fprintf(a.out, "total: %d available, %d requests. %s\n", t.Total.Available, t.Total.Requests, verdict)
	return nil
}

func (a *app) needsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "needs", Short: "students needing a device, per site and category"}
	var n adminapi.Need
	set := &cobra.Command{
		Use:   "set SITE --category C --count N [--device laptop|tablet]",
		Short: "record how many students of a category at a site need a device (replaces that line)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var all []adminapi.SiteNeeds
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathNeeds, nil, &all); err != nil {
				return err
			}
			cur := adminapi.SiteNeeds{Site: args[0]}
			for _, s := range all {
				if s.Site == args[0] {
					cur = s
				}
			}
			replaced := false
			for i, old := range cur.Needs {
				if old.Category == n.Category && old.DeviceType == n.DeviceType {
					cur.Needs[i].Count, replaced = n.Count, true
				}
			}
			if !replaced {
				cur.Needs = append(cur.Needs, n)
			}
			cur.UpdatedAt, cur.UpdatedBy = cur.UpdatedAt.UTC(), ""
			body := adminapi.SiteNeeds{Site: cur.Site, Needs: cur.Needs}
			return a.send(cmd, http.MethodPut, adminapi.PathNeeds+"/"+url.PathEscape(args[0]), body,
				fmt.Sprintf("%s: %d students (%s, %s)", args[0], n.Count, n.Category, n.DeviceType))
		},
	}
	set.Flags().StringVar(&n.Category, "category", "", "no_device, no_exclusive_device, alternating_attendance, at_risk or special_needs")
	set.Flags().StringVar(&n.DeviceType, "device", "laptop", "laptop or tablet")
	set.Flags().IntVar(&n.Count, "count", 0, "number of students")
	_ = set.MarkFlagRequired("category")
	list := &cobra.Command{
		Use: "list", Short: "list recorded needs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var all []adminapi.SiteNeeds
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathNeeds, nil, &all); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(all)
			}
			var rows [][]string
			for _, s := range all {
				for _, n := range s.Needs {
					rows = append(rows, []string{s.Site, n.Category, n.DeviceType, fmt.Sprint(n.Count)})
				}
			}
			return a.table([]string{"SITE", "CATEGORY", "DEVICE", "STUDENTS"}, rows)
		},
	}
	imp := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "replace the needs of the sites of a CSV file (site, category, device_type, count), all or nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			resp, err := c.Raw(cmd.Context(), http.MethodPost, adminapi.PathImportNeeds, "text/csv", f)
			var bad adminapi.BulkResult
			if err != nil {
				if derr := decodeResult(resp, err, &bad); derr != nil {
					return derr
				}
				for _, e := range bad.Errors {
					fmt.Fprintf(a.out, "  line %d: %s\n", e.Line, e.Message)
				}
				return fmt.Errorf("%d bad lines: nothing recorded", len(bad.Errors))
			}
			var sites []adminapi.SiteNeeds
			if err := decodeResult(resp, nil, &sites); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "needs recorded for %d sites\n", len(sites))
			return nil
		},
	}
	cmd.AddCommand(set, list, imp)
	return cmd
}

func (a *app) reserveCommand() *cobra.Command {
	var csvFile, lang string
	cmd := &cobra.Command{
		Use:   "reserve",
		Short: "needs, what our available loaners supply, and the shortfall to request from the ministry's reserve",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if csvFile != "" {
				return a.download(cmd, adminapi.PathExportReserve+"?lang="+url.QueryEscape(lang), csvFile)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var r adminapi.Reserve
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathReserve, nil, &r); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(r)
			}
			var rows [][]string
			for _, l := range append(r.Lines, r.Total...) {
				site := l.Site
				if site == "" {
					site = "TOTAL"
				}
				rows = append(rows, []string{site, l.Category, l.DeviceType, fmt.Sprint(l.Needed), fmt.Sprint(l.Supplied), fmt.Sprint(l.Shortfall)})
			}
			if err := a.table([]string{"SITE", "CATEGORY", "DEVICE", "NEEDED", "SUPPLIED", "SHORTFALL"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "available loaners go to categories in this order: %s; tablets are not tracked, so tablet needs are all shortfall\n", strings.Join(r.Priority, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&csvFile, "csv", "", "write the request to the ministry's reserve as CSV to this file")
	cmd.Flags().StringVar(&lang, "lang", "en", "CSV headers in en or fr")
	return cmd
}

func (a *app) classroomsReportCommand() *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use: "report", Short: "classrooms without a PC or with several, and units seen elsewhere than placed", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var r adminapi.ClassroomsReport
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathClassroomsReport+"?site="+url.QueryEscape(site), nil, &r); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.out, "classrooms without a PC (%d): %s\n", len(r.WithoutPC), dash(strings.Join(r.WithoutPC, ", ")))
			fmt.Fprintf(a.out, "classrooms with several PCs (%d):\n", len(r.Several))
			for room, pcs := range r.Several {
				fmt.Fprintf(a.out, "  %s: %s\n", room, strings.Join(pcs, ", "))
			}
			fmt.Fprintf(a.out, "units seen at another site than their classroom or cart (%d):\n", len(r.Misplaced))
			for _, m := range r.Misplaced {
				fmt.Fprintf(a.out, "  %s: %s at %s, seen at %s\n", m.Unit, m.Placement, m.Site, m.SeenSite)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "only this site")
	return cmd
}

func (a *app) cartShowCommand() *cobra.Command {
	var charge float64
	cmd := &cobra.Command{
		Use: "show CART", Short: "a cart slot by slot: units, charge, battery health, readiness; empty slots", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var s adminapi.CartStatus
			path := fmt.Sprintf("%s/%s/status?charge=%g", adminapi.PathCarts, url.PathEscape(args[0]), charge)
			if err := c.Do(cmd.Context(), http.MethodGet, path, nil, &s); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(s)
			}
			var rows [][]string
			pct := func(p *float64) string {
				if p == nil {
					return "-"
				}
				return fmt.Sprintf("%.0f%%", *p)
			}
			for _, sl := range s.Slots {
				state := dash(strings.ReplaceAll(sl.Readiness, "_", " "))
				if sl.OnLoan {
					state = "on loan"
				}
				rows = append(rows, []string{fmt.Sprint(sl.Slot), dash(sl.Unit), pct(sl.ChargePercent), pct(sl.HealthPercent), state})
			}
			if err := a.table([]string{"SLOT", "UNIT", "CHARGE", "HEALTH", "STATE"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s at %s: %d charged to %.0f%% or more, %d of them ready; %d empty slots\n",
				s.Cart, s.Site, s.Charged, s.ChargeThreshold, s.ChargedReady, len(s.Empty))
			return nil
		},
	}
	cmd.Flags().Float64Var(&charge, "charge", 80, "charge, in percent, that counts as charged")
	return cmd
}

func (a *app) unitsAssignCommand() *cobra.Command {
	var classroom, cart, site string
	var slot int
	var clear bool
	cmd := &cobra.Command{
		Use:   "assign ASSET-TAG (--classroom C | --cart C --slot N | --site S | --clear)",
		Short: "place a unit in a classroom, a cart slot, or at another site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			path := adminapi.PathUnits + "/" + url.PathEscape(args[0])
			var current adminapi.Unit
			if err := c.Do(cmd.Context(), http.MethodGet, path, nil, &current); err != nil {
				return err
			}
			if current.AssetTag == "" {
				return fmt.Errorf("%s is not a declared unit: declare it first (parcctl units declare)", args[0])
			}
			u := inventory.Unit{AssetTag: current.AssetTag, Serial: current.Serial, Model: current.Model,
				PurchaseDate: current.PurchaseDate, Site: current.Site, Role: current.Role, AssignedSite: current.Placed,
				Classroom: current.Classroom, Cart: current.Cart, Slot: current.Slot}
			switch {
			case clear:
				u.Classroom, u.Cart, u.Slot, u.AssignedSite = "", "", 0, ""
			case classroom != "":
				u.Classroom, u.Cart, u.Slot = classroom, "", 0
			case cart != "":
				u.Classroom, u.Cart, u.Slot = "", cart, slot
			}
			if cmd.Flags().Changed("site") {
				u.AssignedSite = site
				if site == u.Site {
					u.AssignedSite = ""
				}
			}
			return a.send(cmd, http.MethodPut, path, u, "unit "+u.AssetTag+" placed")
		},
	}
	f := cmd.Flags()
	f.StringVar(&classroom, "classroom", "", "classroom to place it in")
	f.StringVar(&cart, "cart", "", "cart or cabinet to place it in (with --slot)")
	f.IntVar(&slot, "slot", 0, "slot of the cart")
	f.StringVar(&site, "site", "", "another site it is assigned to for good (its own site to undo)")
	f.BoolVar(&clear, "clear", false, "take it out of any classroom, cart and assignment")
	return cmd
}

func (a *app) privacyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "privacy", Short: "a borrower's rights: export what parc holds, erase it"}
	var borrower string
	export := &cobra.Command{
		Use: "export --borrower ID", Short: "every loan parc holds of a borrower (recorded in the audit log)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var out adminapi.LoanList
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathPrivacyBorrowers+"/"+url.PathEscape(borrower), nil, &out); err != nil {
				return err
			}
			return a.printJSON(out)
		},
	}
	erase := &cobra.Command{
		Use: "erase --borrower ID", Short: "anonymise a borrower's closed loans (refused while they hold a unit)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var out map[string]int
			if err := c.Do(cmd.Context(), http.MethodPost, adminapi.PathPrivacyBorrowers+"/"+url.PathEscape(borrower)+"/erase", struct{}{}, &out); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%d loans of %s anonymised\n", out["anonymised"], borrower)
			return nil
		},
	}
	for _, c := range []*cobra.Command{export, erase} {
		c.Flags().StringVar(&borrower, "borrower", "", "borrower id (required)")
		_ = c.MarkFlagRequired("borrower")
	}
	cmd.AddCommand(export, erase)
	return cmd
}
