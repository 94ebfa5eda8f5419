package metrics

// SiteLink is the state of one site's link as the link monitor sees it.
type SiteLink struct {
	Site string
	// Up is false when the site is dark: its probes fail, or most of its
	// agents stopped reporting together.
	Up bool
}

// LinkStates gives the current state of every watched site's link; the
// site and fibre-link monitor implements it. Nil in Fleet: no link metric.
type LinkStates interface {
	SiteLinks() []SiteLink
}

// LinkStatesFunc adapts a function to LinkStates, so that the link monitor
// need not import this package: Links: metrics.LinkStatesFunc(fn).
type LinkStatesFunc func() []SiteLink

// SiteLinks implements LinkStates.
func (f LinkStatesFunc) SiteLinks() []SiteLink { return f() }
