//go:build !windows && !darwin

package main

// Where the agent keeps its state and reads its configuration by default.
const (
	defaultStateDir   = "/var/lib/parc-agent"
	defaultConfigFile = "/etc/parc/agent.yaml"
)
