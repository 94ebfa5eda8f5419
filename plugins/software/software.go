package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/inventory"
	"github.com/parc-project/parc/plugins/pluginapi"
)

const (
	pluginName    = "software"
	pluginVersion = "0.1.0"
	source        = "plugin " + pluginName
)

type requirement struct {
	Name  string   `json:"name"`
	Match []string `json:"match"`
}

type config struct {
	Required []requirement `json:"required"`
}

func loadConfig(raw json.RawMessage) (config, error) {
	var c config
	if err := pluginapi.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	var errs []error
	for i, r := range c.Required {
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("plugin configuration: required[%d] has no name", i))
		}
		for _, p := range r.Match {
			if _, err := path.Match(strings.ToLower(p), ""); err != nil {
				errs = append(errs, fmt.Errorf("plugin configuration: %s: pattern %q: %w", r.Name, p, err))
			}
		}
	}
	return c, errors.Join(errs...)
}

type collector struct{}

func (collector) Describe(context.Context) (pluginapi.Description, error) {
	return pluginapi.Description{Name: pluginName, Version: pluginVersion, Facts: []string{agentapi.FactSoftware}}, nil
}

func (collector) Collect(ctx context.Context, raw json.RawMessage) (pluginapi.Result, error) {
	var res pluginapi.Result
	cfg, err := loadConfig(raw)
	if err != nil {
		return res, err
	}
	apps, err := inventory.Installed(ctx)
	if err != nil && len(apps) == 0 {
		// Nothing to match against: "not installed" would be a lie.
		res.AddError(source, agentapi.FactSoftware, err.Error())
		return res, nil
	}
	if err != nil {
		res.AddError(source, agentapi.FactSoftware, err.Error())
	}
	res.SetFact(source, agentapi.FactSoftware, check(cfg.Required, apps))
	return res, nil
}

// check answers each requirement from the list of installed applications.
func check(required []requirement, apps []inventory.App) agentapi.SoftwareFacts {
	facts := agentapi.SoftwareFacts{Items: make([]agentapi.SoftwareItem, 0, len(required))}
	for _, r := range required {
		item := agentapi.SoftwareItem{Name: r.Name}
		patterns := r.Match
		if len(patterns) == 0 {
			patterns = []string{r.Name}
		}
		if app, ok := inventory.Find(apps, patterns); ok {
			item.Installed, item.Version = true, app.Version
			item.Match = app.Source + ": " + app.Name
		}
		facts.Items = append(facts.Items, item)
	}
	return facts
}
