// Command parc-sim simulates many parc agents against a parc-server: it
// enrols them, drives their check-ins for a while with the agent's own
// client and report types, and prints what the server sustained.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/sim"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/ctl"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type options struct {
	server, enrollToken, token, tokenFile, caFile, site, ackedOut, fleet string
	agents, concurrency                                                  int
	interval, duration, every                                            time.Duration
	change, offline                                                      float64
	verbose                                                              bool
}

func main() {
	var o options
	cmd := &cobra.Command{
		Use:   "parc-sim",
		Short: "simulate many parc agents against a parc-server and measure what it sustains",
		Long: `parc-sim enrols --agents simulated agents, then checks each in every
--interval (±10% jitter) for --duration: a full report when its content
changed (--change of the check-ins) or the server asks, a heartbeat
otherwise. --offline of the agents enrol and then stay silent.

With --fleet FILE it instead checks in once for each laptop a fleet file
describes (configs/examples/fleet.csv: serial and what differs from a
ready loaner) and exits: the README's coordinator walkthrough uses it.

It needs an enroll token (--enroll-token), or an admin token (--token,
--token-file, PARC_TOKEN) with which it creates one.`,
		Version:       version,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", os.Getenv("PARC_SERVER"), "server URL (PARC_SERVER)")
	f.StringVar(&o.enrollToken, "enroll-token", "", "enroll token the agents enrol with")
	f.StringVar(&o.token, "token", os.Getenv("PARC_TOKEN"), "admin token, to create an enroll token (PARC_TOKEN)")
	f.StringVar(&o.tokenFile, "token-file", os.Getenv("PARC_TOKEN_FILE"), "file holding the admin token, such as the server's admin.token (PARC_TOKEN_FILE)")
	f.StringVar(&o.caFile, "ca-file", os.Getenv("PARC_CA_FILE"), "CA certificate to trust (PARC_CA_FILE); without it agents pin the CA the enroll token names")
	f.StringVar(&o.site, "site", "sim", "site of the enroll token parc-sim creates")
	f.IntVar(&o.agents, "agents", 1000, "simulated agents")
	f.DurationVar(&o.interval, "interval", time.Minute, "check-in interval of each agent; 0 checks in back to back (maximum rate)")
	f.Float64Var(&o.change, "change", 0.05, "fraction of check-ins whose report changed (full reports)")
	f.Float64Var(&o.offline, "offline", 0, "fraction of agents that enrol and never check in")
	f.DurationVar(&o.duration, "duration", time.Minute, "length of the run after enrolment")
	f.IntVar(&o.concurrency, "concurrency", sim.DefaultConcurrency, "requests in flight at most")
	f.StringVar(&o.fleet, "fleet", "", "check in once for each machine of this fleet file, then exit")
	f.StringVar(&o.ackedOut, "acked-out", "", "write every acknowledged report to this file, one JSON object a line")
	f.DurationVar(&o.every, "progress", 5*time.Second, "print progress this often (0: never)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log every failed request")
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "parc-sim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if o.server == "" {
		return fmt.Errorf("no server: pass --server or set PARC_SERVER")
	}
	var hc *http.Client
	if o.caFile != "" {
		data, err := os.ReadFile(o.caFile)
		if err != nil {
			return fmt.Errorf("reading the CA: %w", err)
		}
		cas, err := agentapi.ParseCertificates(data)
		if err != nil {
			return fmt.Errorf("CA file %s: %w", o.caFile, err)
		}
		hc = client.PinnedHTTPClient(cas, 10*time.Second)
	}
	var fleet []sim.FleetUnit
	if o.fleet != "" {
		f, err := os.Open(o.fleet)
		if err != nil {
			return err
		}
		fleet, err = sim.ReadFleet(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", o.fleet, err)
		}
		// The fleet's machines belong to the sites their declared units
		// name, not to parc-sim's own site.
		o.site, o.agents = "", len(fleet)
	}
	if o.enrollToken == "" {
		tok, err := createEnrollToken(ctx, o, hc)
		if err != nil {
			return err
		}
		o.enrollToken = tok
	}
	if fleet != nil {
		if err := sim.ReportFleet(ctx, o.server, hc, o.enrollToken, fleet); err != nil {
			return fmt.Errorf("%s: %w", o.fleet, err)
		}
		fmt.Fprintf(stdout, "%d machines of %s checked in once\n", len(fleet), o.fleet)
		return nil
	}
	var last time.Time
	cfg := sim.LoadConfig{
		ServerURL: o.server, HTTPClient: hc, EnrollToken: o.enrollToken, Agents: o.agents,
		Interval: o.interval, ChangeFraction: o.change, OfflineFraction: o.offline,
		Duration: o.duration, Concurrency: o.concurrency,
		Progress: func(p sim.Progress) {
			if o.every <= 0 || time.Since(last) < o.every-time.Second/2 {
				return
			}
			last = time.Now()
			printProgress(stderr, p)
		},
	}
	res, err := sim.RunLoad(ctx, cfg, log)
	if err != nil {
		return err
	}
	printSummary(stdout, o, res)
	if o.ackedOut != "" {
		if err := writeAcked(o.ackedOut, res.Acked); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "acknowledged reports: %d, written to %s\n", len(res.Acked), o.ackedOut)
	}
	return nil
}

// createEnrollToken creates an enroll token for the simulated agents with
// the admin token.
func createEnrollToken(ctx context.Context, o options, hc *http.Client) (string, error) {
	token := o.token
	if o.tokenFile != "" {
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return "", fmt.Errorf("reading the admin token: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	if token == "" {
		return "", fmt.Errorf("no enroll token: pass --enroll-token, or an admin token (--token, --token-file, PARC_TOKEN) to create one")
	}
	c, err := ctl.NewClient(o.server, token, hc)
	if err != nil {
		return "", err
	}
	var tok adminapi.EnrollToken
	req := adminapi.EnrollTokenRequest{Site: o.site, Role: "loaner", TTL: "24h", MaxUses: o.agents}
	if err := c.Do(ctx, http.MethodPost, adminapi.PathEnrollTokens, req, &tok); err != nil {
		return "", fmt.Errorf("creating an enroll token: %w", err)
	}
	return tok.Token, nil
}

func printProgress(w io.Writer, p sim.Progress) {
	if p.Phase == "enrol" {
		fmt.Fprintf(w, "%6.0fs  enrolled %d (%.0f/s)\n", p.Elapsed.Seconds(), p.Enrolled, float64(p.Enrolled)/p.Elapsed.Seconds())
		return
	}
	s := p.Elapsed.Seconds()
	fmt.Fprintf(w, "%6.0fs  check-ins %d (%.0f/s)  full reports %d (%.0f/s)  heartbeats %d  errors %d\n",
		s, p.CheckIns, float64(p.CheckIns)/s, p.FullReports, float64(p.FullReports)/s, p.Heartbeats, p.Errors)
}

func printSummary(w io.Writer, o options, r *sim.Result) {
	fmt.Fprintf(w, "agents %d (offline %.0f%%), interval %s, change %.0f%%, concurrency %d, %s\n",
		o.agents, o.offline*100, o.interval, o.change*100, o.concurrency, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "check-ins     %10d  %10.0f/s\n", r.CheckIns, r.Rate(r.CheckIns))
	fmt.Fprintf(w, "full reports  %10d  %10.0f/s\n", r.FullReports, r.Rate(r.FullReports))
	fmt.Fprintf(w, "heartbeats    %10d  %10.0f/s\n", r.Heartbeats, r.Rate(r.Heartbeats))
	fmt.Fprintf(w, "latency       p50 %s  p99 %s  max %s\n", r.P50, r.P99, r.Max.Round(time.Microsecond))
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors        none")
		return
	}
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		fmt.Fprintf(w, "errors        %-20s %d\n", k, r.Errors[k])
	}
}

func writeAcked(path string, acked []sim.Ack) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing acknowledged reports: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, a := range acked {
		if err := enc.Encode(a); err != nil {
			f.Close()
			return fmt.Errorf("writing acknowledged reports to %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing acknowledged reports to %s: %w", path, err)
	}
	return f.Close()
}
