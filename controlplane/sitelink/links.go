package sitelink

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/store"
)

// KindSiteLinks holds one record per site: sitelinks/<site>, an
// adminapi.SiteLink in compact JSON, written by the Monitor.
const KindSiteLinks = "sitelinks"

// Links mirrors every site's link state on this replica, for the API, the
// web UI, metrics and the reconciler.
type Links struct {
	cache *store.Cache[adminapi.SiteLink]
}

// NewLinks returns the mirror; Run fills it.
func NewLinks(s *store.Store, log *slog.Logger) *Links {
	return &Links{cache: store.NewCache[adminapi.SiteLink](s, KindSiteLinks, log)}
}

// Run keeps the mirror in step with etcd until ctx ends.
func (l *Links) Run(ctx context.Context) { l.cache.Run(ctx) }

// WaitReady waits for the first listing.
func (l *Links) WaitReady(ctx context.Context) error { return l.cache.WaitReady(ctx) }

// OnChange calls fn with the site whose link state changed ("" when every
// site may have). Set it before Run; only one function is kept.
func (l *Links) OnChange(fn func(site string)) { l.cache.OnChange(fn) }

// SiteLinks returns every site's link state, ordered by site. Each has
// Site, State (up, down, degraded, unknown), Since, ProbesReporting and
// the probes' median RTTMs, Loss and DownloadMbps.
func (l *Links) SiteLinks() []adminapi.SiteLink {
	out := make([]adminapi.SiteLink, 0, l.cache.Len())
	l.cache.Range(func(_ string, v adminapi.SiteLink) bool {
		out = append(out, v)
		return true
	})
	slices.SortFunc(out, func(a, b adminapi.SiteLink) int { return strings.Compare(a.Site, b.Site) })
	return out
}

// Get returns one site's link state.
func (l *Links) Get(site string) (adminapi.SiteLink, bool) { return l.cache.Get(site) }

// SiteDark reports whether an agent of site last heard at lastSeen is
// silent because its site's link is down: the site is down and the agent
// went silent with the others (last heard between SilentFrom and Since).
// An agent heard since, or gone long before, is judged on its own.
func (l *Links) SiteDark(site string, lastSeen time.Time) bool {
	if site == "" || lastSeen.IsZero() {
		return false
	}
	v, ok := l.cache.Get(site)
	if !ok || v.State != adminapi.LinkDown || v.SilentFrom == nil {
		return false
	}
	return !lastSeen.Before(*v.SilentFrom) && !lastSeen.After(v.Since)
}
