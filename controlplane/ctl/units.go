package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) unitsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "units", Short: "list and show units"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "list every unit with its last check-in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var all []adminapi.Unit
			after := ""
			for {
				var page adminapi.UnitList
				path := adminapi.PathUnits + "?after=" + url.QueryEscape(after)
				if err := c.Do(cmd.Context(), http.MethodGet, path, nil, &page); err != nil {
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
			rows := make([][]string, 0, len(all))
			for _, u := range all {
				rows = append(rows, []string{u.ID, u.Hostname, dash(u.Site), dash(u.Role), dash(u.Platform + " " + u.PlatformVersion), dash(u.Model), ago(u.LastSeen)})
			}
			if err := a.table([]string{"ID", "HOSTNAME", "SITE", "ROLE", "OS", "MODEL", "LAST SEEN"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%d units\n", len(all))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show ID",
		Short: "show one unit and its latest report",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var u adminapi.Unit
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathUnits+"/"+url.PathEscape(args[0]), nil, &u); err != nil {
				return fmt.Errorf("unit %s: %w", args[0], err)
			}
			if a.json() {
				return a.printJSON(u)
			}
			return a.printUnit(u)
		},
	})
	return cmd
}

func (a *app) printUnit(u adminapi.Unit) error {
	rows := [][]string{
		{"id", u.ID}, {"hostname", u.Hostname}, {"site", dash(u.Site)}, {"role", dash(u.Role)},
		{"os", dash(u.Platform + " " + u.PlatformVersion)}, {"vendor", dash(u.Vendor)}, {"model", dash(u.Model)},
		{"serial", dash(u.Serial)}, {"hardware uuid", dash(u.HardwareUUID)},
		{"enrolled", u.EnrolledAt.Local().Format(time.DateTime)}, {"last seen", ago(u.LastSeen)},
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
		for _, e := range u.Report.Errors {
			rows = append(rows, []string{"error", e.Source + ": " + e.Message})
		}
	}
	return a.table([]string{"FIELD", "VALUE"}, rows)
}

func dash(s string) string {
	if s == "" || s == " " {
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
