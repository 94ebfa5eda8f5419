// Command parc-bench measures what parc sustains on this machine against
// raw etcd configured as parc-server configures it: etcd puts, parc
// heartbeats, parc full reports, latency at half the maximum rate, and
// what units cost in etcd and in memory. `make bench-scale` runs it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/ackcheck"
	"github.com/parc-project/parc/controlplane/store"
)

type options struct {
	out                      string
	duration                 time.Duration
	agents, concurrency      int
	units                    int
	rawClients, rawConns     int
	valueBytes               int
	profile                  bool
	skipSize, skipThroughput bool
}

// Targets on a 2-core machine running server, etcd and simulator.
const (
	targetHeartbeats = 20_000
	targetFullRatio  = 0.5
	targetP99        = 250 * time.Millisecond
)

func main() {
	var o options
	cmd := &cobra.Command{
		Use:           "parc-bench",
		Short:         "measure parc's check-in rates and size against raw etcd on this machine",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "bench-results", "directory for the figures (bench-scale.json, bench-scale.txt), logs and profiles")
	f.DurationVar(&o.duration, "duration", envDuration("BENCH_DURATION", 20*time.Second), "length of each measured phase (BENCH_DURATION)")
	f.IntVar(&o.agents, "agents", envInt("BENCH_AGENTS", 2000), "simulated agents of the rate phases (BENCH_AGENTS)")
	f.IntVar(&o.concurrency, "concurrency", 256, "check-ins in flight at most")
	f.IntVar(&o.units, "units", envInt("BENCH_UNITS", 100_000), "units of the size phase (BENCH_UNITS; 0 skips it)")
	f.IntVar(&o.rawClients, "raw-clients", 256, "concurrent clients of the raw etcd phase")
	f.IntVar(&o.rawConns, "raw-conns", 8, "connections they share")
	f.IntVar(&o.valueBytes, "raw-value-bytes", 1024, "value size of the raw etcd puts")
	f.BoolVar(&o.profile, "profile", false, "write CPU profiles of the servers into --out")
	f.BoolVar(&o.skipThroughput, "skip-rates", false, "only measure size")
	cmd.AddCommand(childCommand("serve"), childCommand("etcd"))
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "parc-bench:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// figures is everything one run measured; bench-scale.json holds it.
type figures struct {
	Started     time.Time    `json:"started"`
	CPUs        int          `json:"cpus"`
	LoadAverage string       `json:"load_average_at_start"`
	Duration    string       `json:"phase_duration"`
	Raw         *rawResult   `json:"raw_etcd,omitempty"`
	Loads       []loadResult `json:"parc,omitempty"`
	// Ratios of parc to raw etcd puts.
	HeartbeatsToRaw  float64     `json:"heartbeats_to_raw_puts,omitempty"`
	FullToRaw        float64     `json:"full_reports_to_raw_puts,omitempty"`
	AckedNotInEtcd   int         `json:"acked_reports_not_in_etcd"`
	AckedChecked     int         `json:"acked_reports_checked"`
	Size             *sizeResult `json:"size,omitempty"`
	Verdicts         []string    `json:"verdicts"`
	EnrolmentsPerSec float64     `json:"enrolments_per_sec,omitempty"`
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	dir, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	load, _ := os.ReadFile("/proc/loadavg")
	fig := &figures{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadAverage: strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "),
		Duration: o.duration.String()}
	// The agents check in far more often than real ones (every few ms, not
	// every minute): the per-agent rate limit, meant for a misbehaving
	// agent, is raised so that it does not cap the measurement.
	serverFlags := []string{"--rate-limit-agent", "100000", "--rate-limit-agent-burst", "100000"}
	profileFlags := func(name string) []string {
		if !o.profile {
			return nil
		}
		return []string{"--cpuprofile", filepath.Join(dir, name+".cpu.pprof"), "--memprofile", filepath.Join(dir, name+".heap.pprof")}
	}
	if !o.skipThroughput {
		if err := rates(ctx, o, dir, fig, serverFlags, profileFlags, log); err != nil {
			return err
		}
	}
	if o.units > 0 {
		sz, err := measureSize(ctx, dir, o.units, o.concurrency, log, append(serverFlags, profileFlags("size")...))
		if err != nil {
			return fmt.Errorf("size at %d units: %w", o.units, err)
		}
		fig.Size = sz
	}
	verdicts(fig)
	text := report(fig)
	fmt.Fprint(stdout, text)
	if err := os.WriteFile(filepath.Join(dir, "bench-scale.txt"), []byte(text), 0o644); err != nil {
		return err
	}
	data, err := json.MarshalIndent(fig, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench-scale.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "figures written to %s\n", filepath.Join(o.out, "bench-scale.{txt,json}"))
	return nil
}

// rates runs phases (1) to (4): raw etcd puts, parc heartbeats, parc full
// reports, and each of the two at half its maximum rate.
func rates(ctx context.Context, o options, dir string, fig *figures, serverFlags []string, profileFlags func(string) []string, log *slog.Logger) error {
	log.Info("phase 1: raw etcd puts", "clients", o.rawClients, "value_bytes", o.valueBytes, "duration", o.duration)
	etcd, err := startChild(ctx, "etcd", dir, profileFlags("etcd")...)
	if err != nil {
		return err
	}
	etcd0, self0 := etcd.cpu(), selfCPU()
	raw, err := rawPuts(ctx, etcd.EtcdURL, o.rawClients, o.rawConns, o.valueBytes, o.duration)
	if err == nil && raw.Puts > 0 {
		raw.ServerCPUMicros = float64((etcd.cpu() - etcd0).Microseconds()) / float64(raw.Puts)
		raw.ClientCPUMicros = float64((selfCPU() - self0).Microseconds()) / float64(raw.Puts)
	}
	etcd.stop()
	if err != nil {
		return err
	}
	fig.Raw = raw
	log.Info("raw etcd", "puts_per_sec", int(raw.PutsPerSec), "p99_ms", raw.P99Millis)

	srv, err := startChild(ctx, "serve", dir, append(serverFlags, profileFlags("parc")...)...)
	if err != nil {
		return err
	}
	defer srv.stop()
	log.Info("enrolling agents", "agents", o.agents)
	agents, took, err := enrollAll(ctx, srv, o.agents, o.concurrency, log)
	if err != nil {
		return err
	}
	fig.EnrolmentsPerSec = float64(len(agents)) / took.Seconds()
	hc, err := srv.httpClient(30 * time.Second)
	if err != nil {
		return err
	}
	var acked []sim.Ack
	base := sim.LoadConfig{ServerURL: srv.URL, HTTPClient: hc, Duration: o.duration, Concurrency: o.concurrency}
	phase := func(name string, change float64, target float64) loadResult {
		cfg := base
		cfg.ChangeFraction = change
		if target > 0 {
			cfg.Interval = time.Duration(float64(len(agents)) / target * float64(time.Second))
		}
		log.Info(name, "agents", len(agents), "interval", cfg.Interval)
		srv0, sim0 := srv.cpu(), selfCPU()
		res := sim.DriveLoad(ctx, cfg, agents, log)
		lr := newLoadResult(name, cfg, len(agents), target, res)
		if res.CheckIns > 0 {
			lr.ServerCPUMicros = float64((srv.cpu() - srv0).Microseconds()) / float64(res.CheckIns)
			lr.SimCPUMicros = float64((selfCPU() - sim0).Microseconds()) / float64(res.CheckIns)
		}
		log.Info(name, "checkins_per_sec", int(lr.CheckInsPerSec), "p99_ms", lr.P99Millis, "errors", lr.Errors)
		if change > 0 {
			fig.AckedChecked += len(res.Acked)
			acked = append(acked, res.Acked...)
		}
		return lr
	}
	hb := phase("(2) heartbeats", 0, 0)
	hbHalf := phase("(4) heartbeats at 50%", 0, hb.CheckInsPerSec/2)
	full := phase("(3) changed full reports", 1, 0)
	fullHalf := phase("(4) full reports at 50%", 1, full.CheckInsPerSec/2)
	fig.Loads = []loadResult{hb, full, hbHalf, fullHalf}
	fig.HeartbeatsToRaw = hb.HeartbeatsPerSec / raw.PutsPerSec
	fig.FullToRaw = full.FullPerSec / raw.PutsPerSec

	cli, err := srv.etcd()
	if err != nil {
		return err
	}
	defer cli.Close()
	missing, err := ackcheck.VerifyAcked(ctx, cli, store.DefaultPrefix, acked)
	if err != nil {
		return err
	}
	fig.AckedNotInEtcd = len(missing)
	return nil
}

func selfCPU() time.Duration {
	d, _ := cpuTime(0)
	return d
}

func verdicts(f *figures) {
	add := func(ok bool, format string, args ...any) {
		v := "MET   "
		if !ok {
			v = "MISSED"
		}
		f.Verdicts = append(f.Verdicts, v+" "+fmt.Sprintf(format, args...))
	}
	if len(f.Loads) == 4 {
		hb, full, hbHalf, fullHalf := f.Loads[0], f.Loads[1], f.Loads[2], f.Loads[3]
		add(hb.HeartbeatsPerSec >= targetHeartbeats, "heartbeats %.0f/s, target at least %d/s", hb.HeartbeatsPerSec, targetHeartbeats)
		add(f.FullToRaw >= targetFullRatio, "changed full reports %.0f/s = %.2f x raw etcd puts (%.0f/s), target at least %.1f x", full.FullPerSec, f.FullToRaw, f.Raw.PutsPerSec, targetFullRatio)
		add(hbHalf.P99Millis < ms(targetP99), "p99 at 50%% of the maximum heartbeat rate %.1f ms, target under %s", hbHalf.P99Millis, targetP99)
		add(fullHalf.P99Millis < ms(targetP99), "p99 at 50%% of the maximum full-report rate %.1f ms, target under %s", fullHalf.P99Millis, targetP99)
		add(f.AckedNotInEtcd == 0, "acknowledged reports not in etcd: %d of %d", f.AckedNotInEtcd, f.AckedChecked)
	}
	if f.Size != nil {
		add(f.Size.MillionUnitsQuotaPart < 1, "1,000,000 units would take %.0f%% of etcd's 2 GiB quota", f.Size.MillionUnitsQuotaPart*100)
	}
}

func report(f *figures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "parc-bench %s, %d CPUs, load average at start %s, %s per phase\n", f.Started.Format(time.RFC3339), f.CPUs, f.LoadAverage, f.Duration)
	if f.Raw != nil {
		fmt.Fprintf(&b, "%-28s %8.0f puts/s of %d B from %d clients over %d connections  p50 %6.1f ms  p99 %6.1f ms  cpu/put: etcd %.0f µs, client %.0f µs\n",
			"(1) raw etcd", f.Raw.PutsPerSec, f.Raw.ValueBytes, f.Raw.Clients, f.Raw.Conns, f.Raw.P50Millis, f.Raw.P99Millis, f.Raw.ServerCPUMicros, f.Raw.ClientCPUMicros)
	}
	for _, l := range f.Loads {
		fmt.Fprintln(&b, l.String())
	}
	if len(f.Loads) > 0 {
		fmt.Fprintf(&b, "ratios to raw etcd puts: heartbeats %.2f, changed full reports %.2f\n", f.HeartbeatsToRaw, f.FullToRaw)
		if hb, full := f.Loads[0], f.Loads[1]; hb.ServerCPUMicros > 0 && full.ServerCPUMicros > 0 && f.Raw.ServerCPUMicros > 0 {
			fmt.Fprintf(&b, "per core of server CPU (parc + embedded etcd; the simulator elsewhere): %.0f heartbeats/s, %.0f full reports/s; raw etcd %.0f puts/s\n",
				1e6/hb.ServerCPUMicros, 1e6/full.ServerCPUMicros, 1e6/f.Raw.ServerCPUMicros)
		}
		fmt.Fprintf(&b, "enrolment %.0f agents/s; acknowledged reports checked in etcd: %d, missing %d\n", f.EnrolmentsPerSec, f.AckedChecked, f.AckedNotInEtcd)
	}
	if f.Size != nil {
		b.WriteString(f.Size.String())
	}
	for _, v := range f.Verdicts {
		fmt.Fprintln(&b, v)
	}
	return b.String()
}
