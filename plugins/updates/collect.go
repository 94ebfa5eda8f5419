package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/pluginapi"
)

const (
	pluginName    = "updates"
	pluginVersion = "0.1.0"
	source        = "plugin " + pluginName
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

type collector struct{}

func (collector) Describe(context.Context) (pluginapi.Description, error) {
	return pluginapi.Description{Name: pluginName, Version: pluginVersion, Facts: []string{agentapi.FactUpdates}}, nil
}

func (collector) Collect(ctx context.Context, raw json.RawMessage) (pluginapi.Result, error) {
	var res pluginapi.Result
	cfg, err := loadConfig(raw)
	if err != nil {
		return res, err
	}
	// collectOS is in updates_<os>.go. Partial problems (the last update
	// time unreadable) come back as errors next to the facts.
	facts, errs, err := collectOS(ctx)
	if err != nil {
		res.AddError(source, agentapi.FactUpdates, err.Error())
		return res, nil
	}
	if len(facts.Packages) > cfg.MaxPackages {
		facts.Packages = facts.Packages[:cfg.MaxPackages]
	}
	for _, e := range errs {
		res.AddError(source, agentapi.FactUpdates, e.Error())
	}
	res.SetFact(source, agentapi.FactUpdates, facts)
	return res, nil
}
