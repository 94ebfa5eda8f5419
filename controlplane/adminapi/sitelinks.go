package adminapi

import "time"

// PathSiteLinks lists every site's link state.
const PathSiteLinks = "/api/v1/sites/links"

// Link states of a site.
const (
	LinkUp       = "up"       // its agents report; its probes, if any, measure a healthy link
	LinkDown     = "down"     // most of its agents went silent together: the site is dark
	LinkDegraded = "degraded" // its probes report, but measure loss or round trips over the thresholds
	LinkUnknown  = "unknown"  // nothing to judge from: no agent of the site heard within the last hour
)

// SiteLink is the state of one site's network link, as parc-server
// concludes it from its probes' measurements and its agents' check-ins.
// It is stored compact at sitelinks/<site> and served as is.
type SiteLink struct {
	Site  string `json:"site"`
	State string `json:"state"`
	// Since is when the link entered State; for "down", the last time
	// the agents that went silent together were heard.
	Since time.Time `json:"since"`
	// Agents counts the site's agents heard within the hour before the
	// silence (or before now); Silent those that went silent together.
	Agents int `json:"agents"`
	Silent int `json:"silent,omitempty"`
	// SilentFrom is the first check-in of the silent group: units whose
	// agent was last heard between SilentFrom and Since are dark with
	// their site.
	SilentFrom *time.Time `json:"silent_from,omitempty"`
	// ProbesReporting counts the probes whose fresh measurements the
	// figures below are the median of.
	ProbesReporting int     `json:"probes"`
	RTTMs           float64 `json:"rtt_ms,omitempty"`
	Loss            float64 `json:"loss,omitempty"`
	DownloadMbps    float64 `json:"download_mbps,omitempty"`
	// Reason says why the state is what it is, in a word:
	// agents_silent, probes_reporting, probe_loss, probe_rtt, agents_reporting, no_agents.
	Reason string `json:"reason,omitempty"`
}

// SiteLinks is the answer of GET PathSiteLinks.
type SiteLinks struct {
	Sites []SiteLink `json:"sites"`
}
