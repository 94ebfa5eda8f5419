package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/agents"
)

// checkinKinds and checkinResults are every label value a check-in takes;
// every combination is created at start, so that a rate over a result that
// never happened yet reads 0, not nothing.
var (
	checkinKinds   = []string{agentapi.KindReport, agentapi.KindHeartbeat, agents.CheckinInvalid}
	checkinResults = []string{agents.CheckinAccepted, agents.CheckinDuplicate, agents.CheckinResend, agents.CheckinRejected, agents.CheckinError}
)

// Checkins counts and times check-ins. It is the agents' hot path (20,000
// a second at peak): counters are resolved once, so a check-in costs two
// atomic adds and a histogram observation, no map nor lock.
type Checkins struct {
	total    *prometheus.CounterVec
	counters [][]prometheus.Counter // [kind][result]
	reports  prometheus.Counter
	duration prometheus.Histogram
}

var _ agents.CheckinObserver = (*Checkins)(nil)

func newCheckins() *Checkins {
	c := &Checkins{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "checkins_total",
			Help: "Agent check-ins handled by this replica, by kind (report, heartbeat, invalid) and result (accepted, duplicate, resend, rejected, error)."},
			[]string{"kind", "result"}),
		reports: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "reports_received_total",
			Help: "Full agent reports this replica stored (redeliveries of a stored report not counted)."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "checkin_duration_seconds",
			Help: "Time to handle a check-in once the agent is authenticated: decoding, etcd for a report, the answer.",
			// 0.5 ms to about 4 s.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 11)}),
	}
	c.counters = make([][]prometheus.Counter, len(checkinKinds))
	for i, k := range checkinKinds {
		c.counters[i] = make([]prometheus.Counter, len(checkinResults))
		for j, r := range checkinResults {
			c.counters[i][j] = c.total.WithLabelValues(k, r)
		}
	}
	return c
}

// Checkin counts one check-in.
func (c *Checkins) Checkin(kind, result string, d time.Duration) {
	k, r := index(checkinKinds, kind), index(checkinResults, result)
	if k >= 0 && r >= 0 {
		c.counters[k][r].Inc()
	}
	if kind == agentapi.KindReport && result == agents.CheckinAccepted {
		c.reports.Inc()
	}
	c.duration.Observe(d.Seconds())
}

// index finds v in a list of a few values, faster than a map at this size.
func index(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

// Describe implements prometheus.Collector.
func (c *Checkins) Describe(ch chan<- *prometheus.Desc) {
	c.total.Describe(ch)
	c.reports.Describe(ch)
	c.duration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Checkins) Collect(ch chan<- prometheus.Metric) {
	c.total.Collect(ch)
	c.reports.Collect(ch)
	c.duration.Collect(ch)
}
