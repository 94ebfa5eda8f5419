// Package metrics exports parc-server's figures to Prometheus on GET
// /metrics: the fleet (units, loans, loaners, agents, kiosks, bandwidth,
// site links) read from the server's caches at scrape time, check-ins and
// reconciler passes counted as they happen, etcd's health probed at scrape
// time, and the Go and process collectors. Labels are site, role, state,
// rule, kind and the like, never a unit, borrower or address: the number of
// series does not grow with the fleet.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every parc metric.
const namespace = "parc"

// Metrics is one server's registry and the instruments its hot paths feed.
type Metrics struct {
	// Registry holds every collector; it is this server's own, never
	// Prometheus' global default.
	Registry *prometheus.Registry
	// Checkins counts check-ins; give it to the agent API.
	Checkins *Checkins
	// Passes times reconciler passes; give ObservePass to the reconciler.
	Passes prometheus.Histogram
}

// New returns a registry with the Go and process collectors, the check-in
// and reconciler instruments, and the given scrape-time collectors.
func New(cs ...prometheus.Collector) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), Checkins: newCheckins(),
		Passes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "reconciler_pass_duration_seconds",
			Help: "Duration of the reconciler's passes on this replica while it leads (a full pass over 100,000 units takes under a second).",
			// 1 ms to about 16 s.
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		})}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Checkins, m.Passes)
	m.Registry.MustRegister(cs...)
	return m
}

// Handler serves the registry in Prometheus' text or protobuf formats;
// an error of one collector is logged in the answer, the others still
// served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.Registry})
}
