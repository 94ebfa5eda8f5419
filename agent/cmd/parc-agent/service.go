package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"

	"github.com/parc-project/parc/agent/config"
)

// serviceConfig describes parc-agent to the service manager: it runs the
// agent with its configuration file, as root/LocalSystem (it reads the
// firmware's serial and the update state).
func serviceConfig(configFile string) *service.Config {
	return &service.Config{
		Name:        "parc-agent",
		DisplayName: "parc agent",
		Description: "Reports this unit's facts (hardware, updates, remote support, battery, bandwidth) to the school's parc server.",
		Arguments:   []string{"--config", configFile},
		Option: service.KeyValue{
			"Restart":           "always", // systemd: come back after a crash
			"OnFailure":         "restart",
			"DelayedAutoStart":  true, // Windows: do not slow the boot
			"RunAtLoad":         true, // launchd
			"KeepAlive":         true,
			"SuccessExitStatus": "143",
		},
	}
}

// program adapts the agent's loop to the service manager's start and stop.
type program struct {
	cfg    config.Config
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- run(ctx, p.cfg) }()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	return <-p.done
}

// runService runs the agent under the service manager that started it.
func runService(cfg config.Config) error {
	s, err := service.New(&program{cfg: cfg}, serviceConfig(""))
	if err != nil {
		return err
	}
	return s.Run()
}

func serviceCommand() *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "service install|uninstall|start|stop|restart|status",
		Short: "install parc-agent as a systemd unit, Windows service or launchd daemon, and control it",
		Long: `Install parc-agent as a service that starts at boot and runs
"parc-agent --config FILE" as root (Linux, macOS) or LocalSystem (Windows).
Write the configuration file first (see configs/parc-agent.yaml): the server
URL, and the enroll token for the first start.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"install", "uninstall", "start", "stop", "restart", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			abs, err := filepath.Abs(configFile)
			if err != nil {
				return err
			}
			if args[0] == "install" {
				if _, err := os.Stat(abs); err != nil {
					return fmt.Errorf("configuration file %s: %w (write it before installing the service)", abs, err)
				}
			}
			s, err := service.New(&program{}, serviceConfig(abs))
			if err != nil {
				return err
			}
			if args[0] == "status" {
				st, err := s.Status()
				if err != nil {
					return fmt.Errorf("parc-agent service: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), map[service.Status]string{
					service.StatusRunning: "running", service.StatusStopped: "stopped", service.StatusUnknown: "unknown",
				}[st])
				return nil
			}
			if err := service.Control(s, args[0]); err != nil {
				return fmt.Errorf("parc-agent service %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "parc-agent service: %s done\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", defaultConfigFile, "configuration file the service runs with")
	return cmd
}
