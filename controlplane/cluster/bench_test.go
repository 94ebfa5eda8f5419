package cluster_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/servertest"
)

// BenchmarkCheckins measures what one node and what a 3-member embedded
// cluster carry: closed-loop check-ins (heartbeats only, then every
// check-in a changed full report) from PARC_BENCH_AGENTS agents (default
// 600) spread evenly over the replicas, for PARC_BENCH_DURATION (default
// 10s), every replica driven at the same time. One iteration is one
// measurement; run it alone, with -benchtime=1x:
//
//	go test -run '^$' -bench Checkins -benchtime=1x ./controlplane/cluster/
func BenchmarkCheckins(b *testing.B) {
	agents := envInt(b, "PARC_BENCH_AGENTS", 600)
	d, err := time.ParseDuration(envOr("PARC_BENCH_DURATION", "10s"))
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"--rate-limit-agent", "0", "--log-level", "warn"}
	for _, nodes := range []int{1, 3} {
		b.Run(strconv.Itoa(nodes)+"nodes", func(b *testing.B) {
			var servers []*servertest.Server
			if nodes == 1 {
				servers = []*servertest.Server{servertest.StartServer(b, servertest.Options{Args: args})}
			} else {
				servers = servertest.StartCluster(b, nodes, args...)
			}
			ctx := context.Background()
			log := slog.New(slog.DiscardHandler)
			fleets := make([][]*sim.Agent, nodes)
			cfgs := make([]sim.LoadConfig, nodes)
			for i, s := range servers {
				cfgs[i] = sim.LoadConfig{ServerURL: s.URL, HTTPClient: s.HTTPClient(), EnrollToken: enrollToken(b, servers[0]),
					Agents: agents / nodes, Duration: d, Concurrency: 64}
				if fleets[i], err = sim.EnrollAgents(ctx, cfgs[i], log); err != nil {
					b.Fatal(err)
				}
			}
			for _, kind := range []struct {
				name   string
				change float64
			}{{"heartbeats", 0}, {"fullreports", 1}} {
				b.Run(kind.name, func(b *testing.B) {
					for b.Loop() {
						results := make([]*sim.Result, nodes)
						var wg sync.WaitGroup
						for i := range servers {
							cfg := cfgs[i]
							cfg.ChangeFraction = kind.change
							wg.Go(func() { results[i] = sim.DriveLoad(ctx, cfg, fleets[i], log) })
						}
						wg.Wait()
						var rate float64
						var p99 time.Duration
						var errs int64
						for _, r := range results {
							rate += r.Rate(r.CheckIns)
							p99 = max(p99, r.P99)
							for _, n := range r.Errors {
								errs += n
							}
						}
						b.ReportMetric(rate, "checkins/s")
						b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
						b.ReportMetric(float64(errs), "errors")
					}
				})
			}
		})
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(b *testing.B, name string, def int) int {
	n, err := strconv.Atoi(envOr(name, strconv.Itoa(def)))
	if err != nil || n < 1 {
		b.Fatalf("%s: want a positive number", name)
	}
	return n
}
