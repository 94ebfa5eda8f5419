package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/pluginapi"
)

type config struct {
	MaxPackages int `json:"max_packages"`
}

func loadConfig(raw json.RawMessage) (config, error) {
	c := config{MaxPackages: 20}
	if err := pluginapi.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	if c.MaxPackages < 0 {
		return c, fmt.Errorf("plugin configuration: max_packages is %d, want 0 or more", c.MaxPackages)
	}
	return c, nil
}

// updatesFacts is the fact this plugin delivers.
type updatesFacts = agentapi.UpdatesFacts

// newPlugin returns parc-plugin-updates.
func newPlugin() pluginapi.FactPlugin {
	return pluginapi.FactPlugin{Name: "updates", Version: "0.1.0", Fact: agentapi.FactUpdates, Gather: gather}
}

func gather(ctx context.Context, raw json.RawMessage) (any, []error, error) {
	cfg, err := loadConfig(raw)
	if err != nil {
		return nil, nil, err
	}
	// collectOS is in updates_<os>.go. Partial problems (the last update
	// time unreadable) come back as errors next to the facts.
	facts, partial, err := collectOS(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(facts.Packages) > cfg.MaxPackages {
		facts.Packages = facts.Packages[:cfg.MaxPackages]
	}
	return facts, partial, nil
}
