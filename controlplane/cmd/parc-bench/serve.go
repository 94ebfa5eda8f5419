package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/config"
	"github.com/parc-project/parc/controlplane/etcdnode"
	"github.com/parc-project/parc/controlplane/server"
)

// childCommand is the server side of a benchmark phase, run as a child
// process: "serve" is parc-server itself, "etcd" only the etcd member
// parc-server would embed, configured by the same flags.
func childCommand(use string) *cobra.Command {
	var profile, memProfile string
	cmd := &cobra.Command{
		Use:    use,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var level slog.Level
			_ = level.UnmarshalText([]byte(cfg.LogLevel))
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			if use == "etcd" {
				return runEtcd(ctx, cfg, log)
			}
			return runServer(ctx, cfg, log, memProfile)
		},
	}
	config.Flags(cmd.Flags())
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of this process to this file")
	cmd.Flags().StringVar(&memProfile, "memprofile", "", "write a heap profile of this process to this file when it stops")
	return cmd
}

func runEtcd(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	node, err := etcdnode.Start(ctx, server.EtcdConfig(cfg), log)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-node.Err():
		node.Close()
		return fmt.Errorf("etcd failed: %w", err)
	}
	return node.Close()
}

func runServer(ctx context.Context, cfg config.Config, log *slog.Logger, memProfile string) error {
	var beforeClose func()
	if memProfile != "" {
		// While the server still holds its state.
		beforeClose = func() { writeHeapProfile(memProfile, log) }
	}
	return server.Run(ctx, cfg, log, beforeClose)
}

// writeHeapProfile writes the live heap, for where the memory per unit
// goes.
func writeHeapProfile(path string, log *slog.Logger) {
	f, err := os.Create(path)
	if err != nil {
		log.Error("heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		log.Error("heap profile", "err", err)
	}
}
