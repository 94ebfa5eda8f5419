package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/inventory"
	"github.com/parc-project/parc/plugins/pluginapi"
)

type config struct {
	Skip []string `json:"skip"`
}

// toolSpec says how to recognise one tool on one OS (tools_<os>.go).
type toolSpec struct {
	Name string
	// Packages are patterns for inventory.Find: the tool is installed
	// when one matches, and its version is the package's.
	Packages []string
	// Files: the tool is installed when one exists (tools that are not
	// installed as packages, like the MeshCentral agent).
	Files []string
	// Processes: the tool runs when one of them does (lower case, no .exe).
	Processes []string
	// IDFiles: where the device ID may be read, tried in order.
	IDFiles []idFile
}

type idFile struct {
	Path  string
	Parse func([]byte) string
}

// newPlugin returns parc-plugin-remotesupport.
func newPlugin() pluginapi.FactPlugin {
	return pluginapi.FactPlugin{Name: "remotesupport", Version: "0.1.0", Fact: agentapi.FactRemoteSupport, Gather: gather}
}

func gather(ctx context.Context, raw json.RawMessage) (any, []error, error) {
	var cfg config
	if err := pluginapi.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, err
	}
	var partial []error
	apps, err := inventory.Installed(ctx)
	if err != nil {
		partial = append(partial, fmt.Errorf("installed software: %w", err))
	}
	running, err := inventory.Running(ctx)
	if err != nil {
		partial = append(partial, fmt.Errorf("running processes: %w", err))
	}
	p := probe{apps: apps, running: running, readFile: os.ReadFile}
	facts := agentapi.RemoteSupportFacts{Tools: []agentapi.RemoteTool{}}
	for _, spec := range tools() {
		if !slices.Contains(cfg.Skip, spec.Name) {
			facts.Tools = append(facts.Tools, p.check(spec))
		}
	}
	// OS-specific knowledge that is not a package, a file or a process
	// (services, registry, launchd): platformDetails in tools_<os>.go.
	partial = append(partial, platformDetails(ctx, facts.Tools)...)
	return facts, partial, nil
}

// probe answers for one machine; tests give it fixtures.
type probe struct {
	apps     []inventory.App
	running  map[string]bool
	readFile func(string) ([]byte, error)
}

func (p probe) check(spec toolSpec) agentapi.RemoteTool {
	t := agentapi.RemoteTool{Name: spec.Name}
	if app, ok := inventory.Find(p.apps, spec.Packages); ok && len(spec.Packages) > 0 {
		t.Installed, t.Version = true, app.Version
	}
	for _, f := range spec.Files {
		if _, err := p.readFile(f); err == nil {
			t.Installed = true
		}
	}
	for _, proc := range spec.Processes {
		if p.running[proc] {
			// A running tool is installed, whatever the package database
			// says (a portable AnyDesk, a manual install).
			t.Running, t.Installed = true, true
		}
	}
	for _, f := range spec.IDFiles {
		if data, err := p.readFile(f.Path); err == nil {
			if id := f.Parse(data); id != "" {
				t.DeviceID = id
				break
			}
		}
	}
	return t
}
