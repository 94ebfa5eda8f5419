package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/inventory"
)

func (a *app) unitsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "units", Short: "list, show and declare units"}
	cmd.AddCommand(a.unitsListCommand(), a.unitsShowCommand(), a.unitsDeclareCommand("declare"),
		a.unitsDeclareCommand("update"), a.deleteCommand("unit", adminapi.PathUnits), a.unitsAssignCommand())
	return cmd
}

func (a *app) unitsListCommand() *cobra.Command {
	var site, role, readiness, reconcile, rule string
	var notReady bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list units; --not-ready gives the technician's work list with reasons",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			q := url.Values{"site": {site}, "role": {role}, "readiness": {readiness}, "reconcile": {reconcile}, "rule": {rule}, "lang": {a.lang()}}
			if notReady {
				q.Set("not_ready", "true")
			}
			var all []adminapi.Unit
			for after := ""; ; {
				q.Set("after", after)
				var page adminapi.UnitList
				if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathUnits+"?"+q.Encode(), nil, &page); err != nil {
					return err
				}
				all = append(all, page.Units...)
				if page.Next == "" {
					break
				}
				after = page.Next
			}
			if a.json() {
				return a.printJSON(all)
			}
			if notReady {
				return a.printWorkList(all)
			}
			rows := make([][]string, 0, len(all))
			for _, u := range all {
				rows = append(rows, []string{u.ID, dash(u.Hostname), dash(u.Site), dash(u.Role), reconcileText(u),
					readinessText(u), ago(u.LastSeen)})
			}
			if err := a.table([]string{"ID", "HOSTNAME", "SITE", "ROLE", "INVENTORY", "READINESS", "LAST SEEN"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%d units\n", len(all))
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&notReady, "not-ready", false, "only units not ready (failing or unknown), each with its reasons")
	f.StringVar(&site, "site", "", "only units of this site")
	f.StringVar(&role, "role", "", "only units of this role (loaner, classroom, teacher, kiosk, spare)")
	f.StringVar(&readiness, "readiness", "", "only ready, not_ready or unknown units")
	f.StringVar(&reconcile, "reconcile", "", "only matched, never_seen, not_declared or duplicate units")
	f.StringVar(&rule, "rule", "", "only units failing or unknown on this rule")
	return cmd
}

func reconcileText(u adminapi.Unit) string {
	s := strings.ReplaceAll(u.Reconcile, "_", " ")
	if len(u.Flags) > 0 {
		s += " (" + strings.ReplaceAll(strings.Join(u.Flags, ", "), "_", " ") + ")"
	}
	switch u.Liveness {
	case "stale", "missing":
		s += ", " + u.Liveness
	case "site_dark":
		s += ", site link down"
	}
	return s
}

func readinessText(u adminapi.Unit) string {
	switch u.Readiness {
	case "ready", "":
		return dash(u.Readiness)
	}
	n := len(u.Reasons)
	return fmt.Sprintf("%s (%d)", strings.ReplaceAll(u.Readiness, "_", " "), n)
}

// printWorkList prints each not-ready unit with its reasons: what a
// technician works through.
func (a *app) printWorkList(units []adminapi.Unit) error {
	for _, u := range units {
		where := dash(u.Site)
		if u.Placed != "" {
			where += " → " + u.Placed
		}
		fmt.Fprintf(a.out, "%s  %s  %s  %s  %s, last seen %s\n", u.ID, dash(u.Hostname), where, dash(u.Role),
			strings.ReplaceAll(u.Readiness, "_", " "), ago(u.LastSeen))
		for _, r := range u.Reasons {
			fmt.Fprintf(a.out, "    - %s: %s\n", r.Rule, r.Message)
		}
	}
	fmt.Fprintf(a.out, "%d units not ready\n", len(units))
	return nil
}

func (a *app) unitsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "show one unit: declared facts, readiness with reasons, latest report",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var u adminapi.Unit
			path := adminapi.PathUnits + "/" + url.PathEscape(args[0]) + "?lang=" + a.lang()
			if err := c.Do(cmd.Context(), http.MethodGet, path, nil, &u); err != nil {
				return fmt.Errorf("unit %s: %w", args[0], err)
			}
			if a.json() {
				return a.printJSON(u)
			}
			return a.printUnit(u)
		},
	}
}

func (a *app) printUnit(u adminapi.Unit) error {
	rows := [][]string{
		{"id", u.ID}, {"asset tag", dash(u.AssetTag)}, {"agent", dash(u.Agent)}, {"hostname", dash(u.Hostname)},
		{"site", dash(u.Site)}, {"role", dash(u.Role)}, {"inventory", reconcileText(u)},
		{"readiness", dash(strings.ReplaceAll(u.Readiness, "_", " "))},
	}
	for _, r := range u.Reasons {
		rows = append(rows, []string{"  " + r.Rule, r.Message})
	}
	if u.Placed != "" {
		rows = append(rows, []string{"placed at", u.Placed})
	}
	if u.SeenSite != "" {
		rows = append(rows, []string{"seen at site", u.SeenSite})
	}
	if u.Classroom != "" {
		rows = append(rows, []string{"classroom", u.Classroom})
	}
	if u.Cart != "" {
		rows = append(rows, []string{"cart", fmt.Sprintf("%s slot %d", u.Cart, u.Slot)})
	}
	rows = append(rows,
		[]string{"os", dash(strings.TrimSpace(u.Platform + " " + u.PlatformVersion))}, []string{"vendor", dash(u.Vendor)},
		[]string{"model", dash(u.Model)}, []string{"serial", dash(u.Serial)}, []string{"hardware uuid", dash(u.HardwareUUID)},
		[]string{"purchased", dash(u.PurchaseDate)}, []string{"last seen", ago(u.LastSeen)})
	if u.EnrolledAt != nil {
		rows = append(rows, []string{"enrolled", u.EnrolledAt.Local().Format(time.DateTime)})
	}
	if len(u.Others) > 0 {
		rows = append(rows, []string{"other agents", strings.Join(u.Others, ", ")})
	}
	if u.Report != nil {
		h := u.Report.Host
		rows = append(rows,
			[]string{"report", fmt.Sprintf("#%d, collected %s", u.Report.Seq, u.Report.CollectedAt.Local().Format(time.DateTime))},
			[]string{"cpu", fmt.Sprintf("%s (%d threads)", dash(h.CPUModel), h.CPUCores)},
			[]string{"memory", bytesIEC(h.MemoryBytes)})
		for _, d := range h.Disks {
			rows = append(rows, []string{"disk " + d.Mount, fmt.Sprintf("%s free of %s", bytesIEC(d.FreeBytes), bytesIEC(d.TotalBytes))})
		}
		if h.IdentityNote != "" {
			rows = append(rows, []string{"identity", h.IdentityNote})
		}
		for _, e := range u.Report.Errors {
			rows = append(rows, []string{"error", e.Source + ": " + e.Message})
		}
	}
	return a.table([]string{"FIELD", "VALUE"}, rows)
}

func (a *app) unitsDeclareCommand(verb string) *cobra.Command {
	var u inventory.Unit
	cmd := &cobra.Command{
		Use:   verb + " ASSET-TAG --site SITE --role ROLE",
		Short: map[string]string{"declare": "declare a unit", "update": "change a declared unit (give every field)"}[verb],
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u.AssetTag = args[0]
			if verb == "declare" {
				return a.send(cmd, http.MethodPost, adminapi.PathUnits, u, "unit "+u.AssetTag+" declared")
			}
			return a.send(cmd, http.MethodPut, adminapi.PathUnits+"/"+url.PathEscape(u.AssetTag), u, "unit "+u.AssetTag+" updated")
		},
	}
	f := cmd.Flags()
	f.StringVar(&u.Site, "site", "", "site owning the unit (required)")
	f.StringVar(&u.Role, "role", "", "loaner, classroom, teacher, kiosk or spare (required)")
	f.StringVar(&u.Serial, "serial", "", "serial number")
	f.StringVar(&u.Model, "model", "", "model")
	f.StringVar(&u.PurchaseDate, "purchased", "", "purchase date, YYYY-MM-DD")
	f.StringVar(&u.AssignedSite, "assigned-site", "", "another site the unit is placed at for good")
	f.StringVar(&u.Classroom, "classroom", "", "classroom the unit is in")
	f.StringVar(&u.Cart, "cart", "", "cart or cabinet the unit is in")
	f.IntVar(&u.Slot, "slot", 0, "slot of the cart")
	f.StringVar(&u.HardwareUUID, "hardware-uuid", "", "hardware UUID, to match its agent")
	f.StringVar(&u.MAC, "mac", "", "a MAC address, to match its agent")
	_ = cmd.MarkFlagRequired("site")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func (a *app) readinessCommand() *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "readiness",
		Short: "per site and role: units, ready, not ready (per failing rule), unknown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var r adminapi.Readiness
			q := url.Values{"site": {site}, "lang": {a.lang()}}
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathReadiness+"?"+q.Encode(), nil, &r); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(r)
			}
			return a.printReadiness(r)
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "only this site")
	return cmd
}

func (a *app) printReadiness(r adminapi.Readiness) error {
	var rows [][]string
	var total adminapi.RoleReadiness
	for _, s := range r.Sites {
		site := s.Site
		if site == "-" {
			site = "(no site)"
		}
		roles := make([]string, 0, len(s.Roles))
		for role := range s.Roles {
			roles = append(roles, role)
		}
		sort.Strings(roles)
		for _, role := range roles {
			rc := s.Roles[role]
			total.Units += rc.Units
			total.Ready += rc.Ready
			total.NotReady += rc.NotReady
			total.Unknown += rc.Unknown
			rows = append(rows, []string{site, role, fmt.Sprint(rc.Units), fmt.Sprint(rc.Ready),
				fmt.Sprint(rc.NotReady), fmt.Sprint(rc.Unknown), counts(rc.Failing), inventoryCounts(rc)})
		}
	}
	rows = append(rows, []string{"TOTAL", "", fmt.Sprint(total.Units), fmt.Sprint(total.Ready), fmt.Sprint(total.NotReady), fmt.Sprint(total.Unknown), "", ""})
	if err := a.table([]string{"SITE", "ROLE", "UNITS", "READY", "NOT READY", "UNKNOWN", "FAILING RULES", "INVENTORY"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "units = ready + not ready + unknown; unknown: facts never received (never seen, plugin missing)")
	if len(r.Rules) > 0 {
		ids := make([]string, 0, len(r.Rules))
		for id := range r.Rules {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		fmt.Fprintln(a.out, "rules:")
		for _, id := range ids {
			fmt.Fprintf(a.out, "  %s: %s\n", id, r.Rules[id])
		}
	}
	return nil
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "-"
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func inventoryCounts(rc adminapi.RoleReadiness) string {
	return counts(map[string]int{"never seen": rc.NeverSeen, "not declared": rc.NotDeclared, "wrong site": rc.WrongSite,
		"stale": rc.Stale, "missing": rc.Missing, "site link down": rc.SiteDark, "duplicates": rc.Duplicates})
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// ago says how long ago t was, the way a technician reads it.
func ago(t *time.Time) string {
	if t == nil {
		return "never"
	}
	d := time.Since(*t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
