package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/store"
)

// sizeResult is what units cost in etcd and in the server's memory.
type sizeResult struct {
	Units int `json:"units"`
	// Prefixes maps each kind of key to its count and bytes (key + value).
	Prefixes map[string]prefixSize `json:"prefixes"`
	// BytesPerUnit counts declared + observed + status: what a unit is.
	BytesPerUnit float64 `json:"bytes_per_unit"`
	// AllBytesPerUnit counts every key of parc (agents, receipts, last seen...).
	AllBytesPerUnit float64 `json:"all_bytes_per_unit"`
	DBSize          int64   `json:"db_size"`
	DBSizeInUse     int64   `json:"db_size_in_use"`
	// DBSizeDefrag is the database file after compaction and defragmentation.
	DBSizeDefrag          int64   `json:"db_size_after_defrag"`
	DBBytesPerUnit        float64 `json:"db_bytes_per_unit"`
	RSS                   int64   `json:"server_rss"`
	PeakRSS               int64   `json:"server_peak_rss"`
	RSSPer100k            int64   `json:"server_rss_per_100k_units"`
	EnrolPerSec           float64 `json:"enrolments_per_sec"`
	ImportSeconds         float64 `json:"import_seconds"`
	ReconcileSeconds      float64 `json:"reconcile_seconds"`
	MillionUnitsDBBytes   float64 `json:"million_units_db_bytes"`
	MillionUnitsQuotaPart float64 `json:"million_units_quota_fraction"`
}

type prefixSize struct {
	Keys  int64 `json:"keys"`
	Bytes int64 `json:"bytes"`
}

const etcdDefaultQuota = 2 << 30

// measureSize imports n declared units, enrols n agents whose serials
// match them, has each send a full report, waits until the reconciler has
// written a status for every unit, then measures etcd and the server.
func measureSize(ctx context.Context, dir string, n, concurrency int, log *slog.Logger, serverFlags []string) (*sizeResult, error) {
	c, err := startChild(ctx, "serve", dir, serverFlags...)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	admin, err := adminClient(c)
	if err != nil {
		return nil, err
	}
	var csv bytes.Buffer
	csv.WriteString("asset_tag,serial,site,role\n")
	for i := range n {
		fmt.Fprintf(&csv, "U-%07d,%s,site-%03d,loaner\n", i+1, sim.Host(i+1).Serial, i/1000)
	}
	start := time.Now()
	resp, err := admin.Raw(ctx, http.MethodPost, adminapi.PathImportInventory, "text/csv", &csv)
	if err != nil {
		return nil, fmt.Errorf("importing %d units: %w", n, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res := &sizeResult{Units: n, ImportSeconds: time.Since(start).Seconds()}
	log.Info("inventory imported", "units", n, "seconds", int(res.ImportSeconds))

	agents, took, err := enrollAll(ctx, c, n, concurrency, log)
	if err != nil {
		return nil, err
	}
	res.EnrolPerSec = float64(len(agents)) / took.Seconds()
	log.Info("agents enrolled and reported", "agents", len(agents), "enrolments_per_sec", int(res.EnrolPerSec))

	cli, err := c.etcd()
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	root := store.DefaultPrefix + store.LayoutVersion + "/"
	// The reconciler has judged every unit once each has a status whose
	// unit matched an agent that reported.
	start = time.Now()
	for {
		matched, err := countMatched(ctx, cli, root+reconcile.KindStatus+"/")
		if err != nil {
			return nil, err
		}
		if matched >= n {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return nil, fmt.Errorf("after %s only %d of %d units have a status with their agent", time.Since(start).Round(time.Second), matched, n)
		}
		time.Sleep(2 * time.Second)
	}
	res.ReconcileSeconds = time.Since(start).Seconds()
	time.Sleep(6 * time.Second) // one last-seen flush

	res.Prefixes = make(map[string]prefixSize)
	var all int64
	for _, kind := range []string{store.KindDeclared, store.KindObserved, reconcile.KindStatus, store.KindAgents, store.KindReportLog, store.KindLastSeen, reconcile.KindSummaries, store.KindAudit} {
		ps, err := sizeOf(ctx, cli, root+kind+"/")
		if err != nil {
			return nil, err
		}
		res.Prefixes[kind] = ps
		all += ps.Bytes
	}
	unit := res.Prefixes[store.KindDeclared].Bytes + res.Prefixes[store.KindObserved].Bytes + res.Prefixes[reconcile.KindStatus].Bytes
	res.BytesPerUnit = float64(unit) / float64(n)
	res.AllBytesPerUnit = float64(all) / float64(n)

	st, err := cli.Status(ctx, c.EtcdURL)
	if err != nil {
		return nil, err
	}
	res.DBSize, res.DBSizeInUse = st.DbSize, st.DbSizeInUse
	if _, err := cli.Compact(ctx, st.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		return nil, fmt.Errorf("compacting: %w", err)
	}
	if _, err := cli.Defragment(ctx, c.EtcdURL); err != nil {
		return nil, fmt.Errorf("defragmenting: %w", err)
	}
	if st, err = cli.Status(ctx, c.EtcdURL); err != nil {
		return nil, err
	}
	res.DBSizeDefrag = st.DbSize
	res.DBBytesPerUnit = float64(res.DBSizeDefrag) / float64(n)
	res.MillionUnitsDBBytes = res.DBBytesPerUnit * 1e6
	res.MillionUnitsQuotaPart = res.MillionUnitsDBBytes / etcdDefaultQuota

	runtime.GC() // ours, not the server's: only to not hold the agents twice
	if res.RSS, res.PeakRSS, err = c.rss(); err != nil {
		return nil, err
	}
	res.RSSPer100k = res.RSS * 100_000 / int64(n)
	return res, nil
}

// countMatched counts statuses naming the agent of their unit.
func countMatched(ctx context.Context, cli *clientv3.Client, prefix string) (int, error) {
	n := 0
	err := rangePrefix(ctx, cli, prefix, func(k, v []byte) {
		var st struct {
			Agent string `json:"agent"`
			Tag   string `json:"tag"`
		}
		if json.Unmarshal(v, &st) == nil && st.Agent != "" && st.Tag != "" {
			n++
		}
	})
	return n, err
}

func sizeOf(ctx context.Context, cli *clientv3.Client, prefix string) (prefixSize, error) {
	var ps prefixSize
	err := rangePrefix(ctx, cli, prefix, func(k, v []byte) {
		ps.Keys++
		ps.Bytes += int64(len(k) + len(v))
	})
	return ps, err
}

func rangePrefix(ctx context.Context, cli *clientv3.Client, prefix string, fn func(k, v []byte)) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := prefix
	for {
		resp, err := cli.Get(ctx, key, clientv3.WithRange(end), clientv3.WithLimit(5000))
		if err != nil {
			return fmt.Errorf("reading %s: %w", prefix, err)
		}
		for _, kv := range resp.Kvs {
			fn(kv.Key, kv.Value)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

func (s *sizeResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "size at %d units (import %.0fs, enrolment %.0f/s, reconcile %.0fs):\n", s.Units, s.ImportSeconds, s.EnrolPerSec, s.ReconcileSeconds)
	for _, k := range []string{store.KindDeclared, store.KindObserved, reconcile.KindStatus, store.KindAgents, store.KindReportLog, store.KindLastSeen, reconcile.KindSummaries, store.KindAudit} {
		p := s.Prefixes[k]
		fmt.Fprintf(&b, "  %-12s %8d keys %12d bytes  %7.0f bytes/unit\n", k, p.Keys, p.Bytes, float64(p.Bytes)/float64(s.Units))
	}
	fmt.Fprintf(&b, "  unit (declared+observed+status) %.0f bytes; every parc key %.0f bytes per unit\n", s.BytesPerUnit, s.AllBytesPerUnit)
	fmt.Fprintf(&b, "  etcd db %d MiB (in use %d MiB), after compaction+defrag %d MiB = %.0f bytes/unit\n",
		s.DBSize>>20, s.DBSizeInUse>>20, s.DBSizeDefrag>>20, s.DBBytesPerUnit)
	fmt.Fprintf(&b, "  1,000,000 units: %.2f GiB of etcd, %.0f%% of the 2 GiB default quota\n", s.MillionUnitsDBBytes/(1<<30), s.MillionUnitsQuotaPart*100)
	fmt.Fprintf(&b, "  server RSS (parc + embedded etcd) %d MiB (peak %d MiB) = %d MiB per 100,000 units\n", s.RSS>>20, s.PeakRSS>>20, s.RSSPer100k>>20)
	return b.String()
}
