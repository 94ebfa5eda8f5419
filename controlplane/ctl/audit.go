package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) auditCommand() *cobra.Command {
	var since, until, actor, action, object string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "read the audit log: who changed what, who read personal data (admin only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for name, v := range map[string]string{"since": since, "until": until} {
				if v == "" {
					continue
				}
				t, err := parseSince(v, time.Now())
				if err != nil {
					return fmt.Errorf("--%s: %w", name, err)
				}
				q.Set(name, t.UTC().Format(time.RFC3339))
			}
			for name, v := range map[string]string{"actor": actor, "action": action, "object": object} {
				if v != "" {
					q.Set(name, v)
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var all []adminapi.AuditEntry
			for {
				var page adminapi.AuditList
				if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathAudit+"?"+q.Encode(), nil, &page); err != nil {
					return err
				}
				all = append(all, page.Entries...)
				if page.Next == "" || (limit > 0 && len(all) >= limit) {
					break
				}
				q.Set("after", page.Next)
			}
			if limit > 0 && len(all) > limit {
				all = all[:limit]
			}
			if a.json() {
				return a.printJSON(all)
			}
			rows := make([][]string, 0, len(all))
			for _, e := range all {
				change := e.Detail
				if len(e.After) > 0 {
					change = oneLine(string(e.After), 60)
				}
				rows = append(rows, []string{e.Time.Local().Format(time.DateTime), e.Actor, e.Action, e.Object, dash(change)})
			}
			if err := a.table([]string{"TIME", "ACTOR", "ACTION", "OBJECT", "DETAIL"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%d entries\n", len(all))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "from this time (RFC 3339) or this long ago (24h, 7d)")
	f.StringVar(&until, "until", "", "up to this time (RFC 3339) or this long ago")
	f.StringVar(&actor, "actor", "", "entries whose actor contains this (a token id, a name)")
	f.StringVar(&action, "action", "", "an action (token.create) or an area (token)")
	f.StringVar(&object, "object", "", "an object (borrower/s-0042) or a kind (borrower)")
	f.IntVar(&limit, "limit", 0, "at most this many entries (default: all)")
	return cmd
}

// parseSince reads an RFC 3339 time, or a duration back from now: Go's
// (36h) or whole days (7d), which is how people count retention.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want a time such as 2026-09-01T00:00:00Z or a duration such as 24h or 7d", v)
}

// oneLine shortens JSON for a table cell.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
