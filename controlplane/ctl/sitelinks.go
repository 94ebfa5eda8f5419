package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

// siteLinksCommand is `parcctl sites links`: each site's network link as
// its probes and check-ins show it.
func (a *app) siteLinksCommand() *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "links",
		Short: "show each site's network link: up, down (the site went dark), degraded or unknown, with its probes' figures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			path := adminapi.PathSiteLinks
			if site != "" {
				path += "?" + url.Values{"site": {site}}.Encode()
			}
			var out adminapi.SiteLinks
			if err := c.Do(cmd.Context(), http.MethodGet, path, nil, &out); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(out.Sites)
			}
			rows := make([][]string, 0, len(out.Sites))
			for _, l := range out.Sites {
				since := l.Since
				rows = append(rows, []string{l.Site, linkStateText(l), ago(&since),
					figure(l.RTTMs, l.ProbesReporting > 0, "%.1f ms"), figure(l.Loss*100, l.ProbesReporting > 0, "%.0f%%"),
					figure(l.DownloadMbps, l.DownloadMbps > 0, "%.1f"),
					strconv.Itoa(l.ProbesReporting), agentsText(l)})
			}
			if err := a.table([]string{"SITE", "STATE", "SINCE", "RTT", "LOSS", "DOWNLOAD MBPS", "PROBES", "AGENTS"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%d sites\n", len(out.Sites))
			return nil
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "only this site")
	return cmd
}

func linkStateText(l adminapi.SiteLink) string {
	if l.State == adminapi.LinkDown {
		return "DOWN (site dark)"
	}
	return l.State
}

// figure prints a probe figure, or "-" when no probe measured it.
func figure(v float64, measured bool, format string) string {
	if !measured {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func agentsText(l adminapi.SiteLink) string {
	if l.Silent > 0 {
		return fmt.Sprintf("%d of %d silent", l.Silent, l.Agents)
	}
	return strconv.Itoa(l.Agents)
}
