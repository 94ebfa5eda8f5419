package main

// Where the agent keeps its state and reads its configuration by default.
const (
	defaultStateDir   = "/Library/Application Support/parc-agent"
	defaultConfigFile = "/Library/Application Support/parc-agent/agent.yaml"
)
