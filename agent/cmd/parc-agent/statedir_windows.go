package main

// Where the agent keeps its state and reads its configuration by default.
const (
	defaultStateDir   = `C:\ProgramData\parc\agent`
	defaultConfigFile = `C:\ProgramData\parc\agent.yaml`
)
