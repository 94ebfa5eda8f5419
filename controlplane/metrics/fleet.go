package metrics

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/reconcile"
)

// Unit states of parc_units. ready, not_ready and unknown divide a site's
// units; never_seen, stale, missing and site_dark (silent because the
// site's link is down) count some of those again (the numbers of `parcctl
// readiness`).
const (
	StateReady     = "ready"
	StateNotReady  = "not_ready"
	StateUnknown   = "unknown"
	StateNeverSeen = "never_seen"
	StateStale     = "stale"
	StateMissing   = "missing"
	StateSiteDark  = "site_dark"
)

// BandwidthWindow is how old an agent's bandwidth measurement may be and
// still count in its site's summary: agents measure a few times a day.
const BandwidthWindow = 24 * time.Hour

// bandwidthQuantiles are the quantile label values of
// parc_site_bandwidth_mbps: the worst unit, the worst tenth, the median.
var bandwidthQuantiles = []float64{0, 0.1, 0.5}

// Fleet reads the server's caches at scrape time: nothing is counted in
// between, so the figures are those the API answers with.
type Fleet struct {
	Reconciler *reconcile.Reconciler
	Loans      *loans.Book
	// Continuity counts the loaners of every site, as `parcctl continuity`.
	Continuity func() ([]adminapi.Continuity, adminapi.Continuity)
	// Links, when set, gives the state of every site's link.
	Links LinkStates
	Now   func() time.Time

	d fleetDescs
}

type fleetDescs struct {
	units, unitsFailing, unitsUnknownRule                *prometheus.Desc
	agents, agentsReporting                              *prometheus.Desc
	loanersAvailable, loanersRequested, loanersShortfall *prometheus.Desc
	loansActive, loansOverdue, loansToRecover            *prometheus.Desc
	kiosks, kioskSigAge, kioskInfections, kioskUnhandled *prometheus.Desc
	bandwidth, bandwidthSamples                          *prometheus.Desc
	linkUp                                               *prometheus.Desc
	leader, passes, writes, passUnits                    *prometheus.Desc
}

// NewFleet returns the fleet collector of f's sources.
func NewFleet(f Fleet) *Fleet {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	f.d = fleetDescs{
		units:            d("units", "Units by site, role and state: ready, not_ready and unknown divide the units; never_seen, stale, missing and site_dark count some of them again.", "site", "role", "state"),
		unitsFailing:     d("units_not_ready", "Units failing a readiness rule, by site and rule (a unit failing two rules counts under both).", "site", "rule"),
		unitsUnknownRule: d("units_rule_unknown", "Units a readiness rule could not judge (fact missing), by site and rule.", "site", "rule"),
		agents:           d("agents", "Agents speaking for a unit (or reporting for no declared unit), by the site they are at.", "site"),
		agentsReporting:  d("agents_reporting", "Agents seen within the stale threshold of the readiness rules (liveness ok), by site; updated at each reconciler resync.", "site"),
		loanersAvailable: d("loaners_available", "Loaners that can go out now, by site: the `available` of `parcctl continuity`.", "site"),
		loanersRequested: d("loaners_requested", "Students recorded as needing a device, by site (`parcctl needs`): the threshold available loaners are compared with.", "site"),
		loanersShortfall: d("loaners_shortfall", "Requests the available loaners cannot serve, by site.", "site"),
		loansActive:      d("loans_active", "Loans out (not lost nor abandoned), by the site of check-out and borrower type (student, staff).", "site", "borrower_type"),
		loansOverdue:     d("loans_overdue", "Active loans past their due date, by site.", "site"),
		loansToRecover:   d("loans_to_recover", "Loans lost or abandoned whose unit must be recovered, by site.", "site"),
		kiosks:           d("kiosks", "Antivirus kiosks with kiosk facts, by site (only on the reconciler leader, which holds the facts).", "site"),
		kioskSigAge:      d("kiosk_signature_age_seconds", "Age of the oldest antivirus signatures among a site's kiosks (server clock; leader only).", "site"),
		kioskInfections:  d("kiosk_infections", "Infections found by the latest scan of each kiosk, summed per site (leader only).", "site"),
		kioskUnhandled:   d("kiosk_infections_unhandled", "Infections of the latest scans left in place (neither removed nor moved), per site (leader only).", "site"),
		bandwidth:        d("site_bandwidth_mbps", "Download bandwidth agents measured in the last 24 h, per site: quantile 0 is the worst unit, 0.5 the median. Loaners (measuring from home) are left out; leader only.", "site", "quantile"),
		bandwidthSamples: d("site_bandwidth_samples", "Measurements parc_site_bandwidth_mbps summarises, per site (leader only).", "site"),
		linkUp:           d("site_link_up", "1 when a site's link is up, 0 when the site is dark, per watched site.", "site"),
		leader:           d("reconciler_leader", "1 on the replica that leads reconciliation, 0 on the others."),
		passes:           d("reconciler_passes_total", "Reconciler passes this replica made while it led."),
		writes:           d("reconciler_writes_total", "Statuses this replica's reconciler wrote or deleted while it led."),
		passUnits:        d("reconciler_last_pass_units", "Units the last pass of this replica judged."),
	}
	return &f
}

// Describe implements prometheus.Collector.
func (f *Fleet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.d.units, f.d.unitsFailing, f.d.unitsUnknownRule, f.d.agents, f.d.agentsReporting,
		f.d.loanersAvailable, f.d.loanersRequested, f.d.loanersShortfall, f.d.loansActive, f.d.loansOverdue, f.d.loansToRecover,
		f.d.kiosks, f.d.kioskSigAge, f.d.kioskInfections, f.d.kioskUnhandled, f.d.bandwidth, f.d.bandwidthSamples,
		f.d.linkUp, f.d.leader, f.d.passes, f.d.writes, f.d.passUnits} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (f *Fleet) Collect(ch chan<- prometheus.Metric) {
	f.collectUnits(ch)
	f.collectStatuses(ch, f.Now())
	loaners, _ := f.Continuity()
	f.collectLoaners(ch, loaners)
	f.collectLoans(ch, loaners)
	f.collectReconciler(ch)
	if f.Links != nil {
		for _, l := range f.Links.SiteLinks() {
			ch <- gauge(f.d.linkUp, bool01(l.Up), l.Site)
		}
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// collectUnits reads the site summaries the reconciler maintains (copied
// out first: the cache stays locked only for the copy).
func (f *Fleet) collectUnits(ch chan<- prometheus.Metric) {
	var sums []reconcile.Summary
	f.Reconciler.Summaries.Range(func(_ string, sum reconcile.Summary) bool {
		sums = append(sums, sum)
		return true
	})
	for _, sum := range sums {
		site := sum.Site
		failing, unknown := map[string]int{}, map[string]int{}
		for role, rc := range sum.Roles {
			for _, s := range []struct {
				state string
				n     int
			}{{StateReady, rc.Ready}, {StateNotReady, rc.NotReady}, {StateUnknown, rc.Unknown},
				{StateNeverSeen, rc.NeverSeen}, {StateStale, rc.Stale}, {StateMissing, rc.Missing}, {StateSiteDark, rc.SiteDark}} {
				ch <- gauge(f.d.units, float64(s.n), site, role, s.state)
			}
			for rule, n := range rc.Failing {
				failing[rule] += n
			}
			for rule, n := range rc.Unknowns {
				unknown[rule] += n
			}
		}
		for rule, n := range failing {
			ch <- gauge(f.d.unitsFailing, float64(n), site, rule)
		}
		for rule, n := range unknown {
			ch <- gauge(f.d.unitsUnknownRule, float64(n), site, rule)
		}
	}
}

// siteOf is where a unit is: the site its agent was enrolled for when that
// differs from the declared one, else the site it is assigned to, else its
// own.
func siteOf(s reconcile.Status) string {
	switch {
	case s.SeenSite != "":
		return s.SeenSite
	case s.Placed != "":
		return s.Placed
	case s.Site != "":
		return s.Site
	}
	return reconcile.NoSite
}

type siteFacts struct {
	agents, reporting int
	kiosks            int
	sigAge            float64 // -1: no kiosk with a known signature time
	infected, left    int
	mbps              []float64
}

// collectStatuses walks every unit's status once: agents reporting, and on
// the leader the kiosk and bandwidth facts of their latest reports.
func (f *Fleet) collectStatuses(ch chan<- prometheus.Metric, now time.Time) {
	facts, leading := f.Reconciler.Facts()
	sites := map[string]*siteFacts{}
	f.Reconciler.Statuses.Range(func(_ string, s reconcile.Status) bool {
		if s.Agent == "" {
			return true
		}
		site := siteOf(s)
		sf := sites[site]
		if sf == nil {
			sf = &siteFacts{sigAge: -1}
			sites[site] = sf
		}
		sf.agents++
		if s.Liveness == reconcile.LiveOK {
			sf.reporting++
		}
		if !leading {
			return true
		}
		fa := facts(s.Agent)
		if fa == nil {
			return true
		}
		if k := fa.Kiosk; k != nil && (s.Role == inventory.RoleKiosk || !k.SignatureTime.IsZero()) {
			sf.kiosks++
			sf.infected += k.LastScanInfected
			sf.left += k.LastScanUnhandled
			if !k.SignatureTime.IsZero() {
				sf.sigAge = max(sf.sigAge, now.Sub(k.SignatureTime).Seconds())
			}
		}
		if b := fa.Bandwidth; b != nil && s.Role != inventory.RoleLoaner && now.Sub(b.MeasuredAt) <= BandwidthWindow {
			sf.mbps = append(sf.mbps, b.Mbps)
		}
		return true
	})
	for site, sf := range sites {
		ch <- gauge(f.d.agents, float64(sf.agents), site)
		ch <- gauge(f.d.agentsReporting, float64(sf.reporting), site)
		if !leading {
			continue
		}
		if sf.kiosks > 0 {
			ch <- gauge(f.d.kiosks, float64(sf.kiosks), site)
			ch <- gauge(f.d.kioskInfections, float64(sf.infected), site)
			ch <- gauge(f.d.kioskUnhandled, float64(sf.left), site)
			if sf.sigAge >= 0 {
				ch <- gauge(f.d.kioskSigAge, sf.sigAge, site)
			}
		}
		ch <- gauge(f.d.bandwidthSamples, float64(len(sf.mbps)), site)
		if len(sf.mbps) > 0 {
			slices.Sort(sf.mbps)
			for _, q := range bandwidthQuantiles {
				ch <- gauge(f.d.bandwidth, quantile(sf.mbps, q), site, strconv.FormatFloat(q, 'g', -1, 64))
			}
		}
	}
}

// quantile is the nearest-rank q-quantile of sorted values.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// collectLoaners exports the continuity count.
func (f *Fleet) collectLoaners(ch chan<- prometheus.Metric, sites []adminapi.Continuity) {
	for _, c := range sites {
		ch <- gauge(f.d.loanersAvailable, float64(c.Available), c.Site)
		ch <- gauge(f.d.loanersRequested, float64(c.Requests), c.Site)
		ch <- gauge(f.d.loanersShortfall, float64(c.Shortfall), c.Site)
	}
}

// collectLoans counts open loans; every site holding loaners or loans gets
// its zeros, so that a site with no loan reads 0, not nothing.
func (f *Fleet) collectLoans(ch chan<- prometheus.Metric, sites []adminapi.Continuity) {
	type counts struct{ student, staff, overdue, recover int }
	by := map[string]*counts{}
	site := func(id string) *counts {
		c := by[id]
		if c == nil {
			c = &counts{}
			by[id] = c
		}
		return c
	}
	for _, c := range sites {
		site(c.Site)
	}
	// The filters are known to the book: List cannot fail with them.
	active, _ := f.Loans.List(loans.Filter{List: loans.ListActive})
	for _, l := range active {
		if l.BorrowerType == adminapi.BorrowerStaff {
			site(l.Site).staff++
		} else {
			site(l.Site).student++
		}
	}
	overdue, _ := f.Loans.List(loans.Filter{List: loans.ListOverdue})
	for _, l := range overdue {
		site(l.Site).overdue++
	}
	recover, _ := f.Loans.List(loans.Filter{List: loans.ListRecover})
	for _, l := range recover {
		site(l.Site).recover++
	}
	for id, c := range by {
		ch <- gauge(f.d.loansActive, float64(c.student), id, adminapi.BorrowerStudent)
		ch <- gauge(f.d.loansActive, float64(c.staff), id, adminapi.BorrowerStaff)
		ch <- gauge(f.d.loansOverdue, float64(c.overdue), id)
		ch <- gauge(f.d.loansToRecover, float64(c.recover), id)
	}
}

func (f *Fleet) collectReconciler(ch chan<- prometheus.Metric) {
	st := f.Reconciler.Stats()
	ch <- gauge(f.d.leader, bool01(st.Leader))
	ch <- prometheus.MustNewConstMetric(f.d.passes, prometheus.CounterValue, float64(st.Passes))
	ch <- prometheus.MustNewConstMetric(f.d.writes, prometheus.CounterValue, float64(st.Writes))
	ch <- gauge(f.d.passUnits, float64(st.LastPassSize))
}
