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

// newPlugin returns parc-plugin-software.
func newPlugin() pluginapi.FactPlugin {
	return pluginapi.FactPlugin{Name: "software", Version: "0.1.0", Fact: agentapi.FactSoftware, Gather: gather}
}

func gather(ctx context.Context, raw json.RawMessage) (any, []error, error) {
	cfg, err := loadConfig(raw)
	if err != nil {
		return nil, nil, err
	}
	apps, err := inventory.Installed(ctx)
	if err != nil && len(apps) == 0 {
		// Nothing to match against: "not installed" would be a lie.
		return nil, nil, err
	}
	var partial []error
	if err != nil {
		partial = append(partial, err)
	}
	return check(cfg.Required, apps), partial, nil
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
