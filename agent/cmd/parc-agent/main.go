// Command parc-agent runs on each loaner laptop, classroom PC and kiosk and
// reports its facts to parc-server.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"

	"github.com/parc-project/parc/agent/bandwidth"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/collect"
	"github.com/parc-project/parc/agent/config"
	"github.com/parc-project/parc/agent/pluginhost"
	"github.com/parc-project/parc/agent/runner"
	"github.com/parc-project/parc/agent/spool"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	cmd := &cobra.Command{
		Use:           "parc-agent",
		Short:         "parc agent: collects this machine's facts and reports them to parc-server",
		Version:       version,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			if !service.Interactive() && !cfg.Print && !cfg.Once {
				// Started by systemd, the Windows service manager or launchd.
				return runService(cfg)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, cfg)
		},
	}
	config.Flags(cmd.Flags(), defaultStateDir)
	cmd.AddCommand(serviceCommand())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "parc-agent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config) error {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	r := &runner.Runner{
		Collectors:     []collect.Collector{collect.Host{}, collect.Battery{}},
		CollectTimeout: cfg.CollectTimeout,
		Server:         cfg.Server,
		StateDir:       cfg.StateDir,
		EnrollToken:    cfg.EnrollToken,
		CAFile:         cfg.CAFile,
		Interval:       cfg.Interval,
		Jitter:         cfg.Jitter,
		Bandwidth: bandwidth.Config{Interval: cfg.BandwidthInterval, URL: cfg.BandwidthURL,
			MaxBytes: bandwidth.Defaults.MaxBytes, MaxDuration: bandwidth.Defaults.MaxDuration},
		Probe:   cfg.Probe,
		Version: version,
		Log:     log,
		Now:     time.Now,
	}
	if cfg.Plugins != nil {
		host, err := pluginhost.New(*cfg.Plugins, log.With("component", "plugins"))
		if err != nil {
			return err
		}
		r.Plugins, r.PluginsInterval = host, cfg.PluginsInterval
	}
	if cfg.Print {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := r.LoadState(); err != nil {
			log.Debug("no state to show the last bandwidth measurement from", "err", err)
		}
		return enc.Encode(r.Collect(ctx))
	}
	c, err := client.New(cfg.Server, nil, "parc-agent/"+version)
	if err != nil {
		return err
	}
	r.Client = c
	sp, err := spool.Open(filepath.Join(cfg.StateDir, "spool"), spool.Limits{MaxCount: cfg.SpoolMaxReports, MaxBytes: cfg.SpoolMaxBytes}, log)
	if err != nil {
		return fmt.Errorf("opening the spool: %w", err)
	}
	defer sp.Close()
	r.Spool = sp
	if err := r.Load(); err != nil {
		return err
	}
	if cfg.Once {
		return r.Cycle(ctx)
	}
	log.Info("parc-agent running", "server", cfg.Server, "interval", cfg.Interval, "state_dir", cfg.StateDir, "spooled", sp.Len())
	return r.Run(ctx)
}
