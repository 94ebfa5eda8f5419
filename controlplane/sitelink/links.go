package sitelink

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
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

	mu   sync.Mutex
	dark map[string]darkKey // what SiteDark answered from, per site
}

// darkKey is what SiteDark depends on: a change of figures (a probe's
// round trip) does not concern the units, a site going dark or coming back
// does.
type darkKey struct {
	down        bool
	from, since time.Time
}

func keyOf(v adminapi.SiteLink, ok bool) darkKey {
	if !ok || v.State != adminapi.LinkDown || v.SilentFrom == nil {
		return darkKey{}
	}
	return darkKey{down: true, from: *v.SilentFrom, since: v.Since}
}

// NewLinks returns the mirror; Run fills it.
func NewLinks(s *store.Store, log *slog.Logger) *Links {
	return &Links{cache: store.NewCache[adminapi.SiteLink](s, KindSiteLinks, log), dark: map[string]darkKey{}}
}

// Run keeps the mirror in step with etcd until ctx ends.
func (l *Links) Run(ctx context.Context) { l.cache.Run(ctx) }

// WaitReady waits for the first listing.
func (l *Links) WaitReady(ctx context.Context) error { return l.cache.WaitReady(ctx) }

// OnDarkChange calls fn with a site that went dark or came back (""
// when every site may have): the sites whose units SiteDark judges
// differently now. Set it before Run; only one function is kept.
func (l *Links) OnDarkChange(fn func(site string)) {
	l.cache.OnChange(func(site string) {
		if site == "" {
			fn("")
			return
		}
		k := keyOf(l.cache.Get(site))
		l.mu.Lock()
		changed := l.dark[site] != k
		if k == (darkKey{}) {
			delete(l.dark, site)
		} else {
			l.dark[site] = k
		}
		l.mu.Unlock()
		if changed {
			fn(site)
		}
	})
}

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
