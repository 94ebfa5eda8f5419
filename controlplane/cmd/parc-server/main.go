// Command parc-server is parc's control plane: the agent and admin APIs on
// top of etcd (embedded by default).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/config"
	"github.com/parc-project/parc/controlplane/pki"
	"github.com/parc-project/parc/controlplane/server"
)

func main() {
	cmd := &cobra.Command{
		Use:           "parc-server",
		Short:         "parc control plane: agent API, admin API and web UI on etcd",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, cfg, newLogger(cfg))
		},
	}
	config.Flags(cmd.Flags())
	cmd.AddCommand(initCACommand())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "parc-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := server.Run(ctx, cfg, log, nil); err != nil {
		return err
	}
	log.Info("parc-server stopped cleanly")
	return nil
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// initCACommand makes the CA of an embedded cluster before its first start,
// so that every member serves under the one CA agents pin.
func initCACommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "init-ca",
		Short: "make the CA of a new cluster (ca.crt, ca.key) to copy into every member's data dir before the first start",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// What it made is said below, not in pki's first-start log line.
			ca, err := pki.CreateCA(dataDir, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CA %s made in %s (hash %s).\nCopy %s and %s into the data dir of every member (mode 0600 for the key) before starting them.\n",
				ca.Subject.CommonName, dataDir, agentapi.CAHash(ca), pki.CAFile, pki.CAKey)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "./parc-data", "directory to make the CA in")
	return cmd
}
