package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdTimeout bounds the status request of a scrape: Prometheus must get
// an answer (etcd down) well within its scrape timeout (10 s by default).
const etcdTimeout = 2 * time.Second

// Etcd probes etcd at scrape time, as this replica sees it: the status of
// the first endpoint that answers.
type Etcd struct {
	Client *clientv3.Client
	// QuotaBytes is the backend quota of the embedded member, 0 when etcd
	// is external (its quota is not known here).
	QuotaBytes int64

	up, leader, duration, dbSize, dbInUse, quota *prometheus.Desc
}

// NewEtcd returns the etcd collector.
func NewEtcd(c *clientv3.Client, quotaBytes int64) *Etcd {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "etcd", name), help, nil, nil)
	}
	return &Etcd{Client: c, QuotaBytes: quotaBytes,
		up:       d("up", "1 when an etcd endpoint answered this scrape's status request within 2 s."),
		leader:   d("has_leader", "1 when the etcd member that answered knows a leader (the cluster has a quorum)."),
		duration: d("request_duration_seconds", "Duration of this scrape's etcd status request (up to the 2 s timeout)."),
		dbSize:   d("db_size_bytes", "Size of the etcd backend database file, as the answering member reports it."),
		dbInUse:  d("db_size_in_use_bytes", "Part of the etcd database in use (the rest is freed by defragmentation)."),
		quota:    d("quota_bytes", "Backend quota of the embedded etcd member: writes stop when the database reaches it."),
	}
}

// Describe implements prometheus.Collector.
func (e *Etcd) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{e.up, e.leader, e.duration, e.dbSize, e.dbInUse, e.quota} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Etcd) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), etcdTimeout)
	defer cancel()
	start := time.Now()
	var st *clientv3.StatusResponse
	for _, ep := range e.Client.Endpoints() {
		if resp, err := e.Client.Status(ctx, ep); err == nil {
			st = resp
			break
		}
	}
	ch <- gauge(e.duration, time.Since(start).Seconds())
	ch <- gauge(e.up, bool01(st != nil))
	if e.QuotaBytes > 0 {
		ch <- gauge(e.quota, float64(e.QuotaBytes))
	}
	if st == nil {
		ch <- gauge(e.leader, 0)
		return
	}
	ch <- gauge(e.leader, bool01(st.Leader != 0))
	ch <- gauge(e.dbSize, float64(st.DbSize))
	ch <- gauge(e.dbInUse, float64(st.DbSizeInUse))
}
