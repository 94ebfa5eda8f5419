package pluginapi

import (
	"context"
	"encoding/json"
)

// FactPlugin is a Collector for the common case of a plugin that delivers
// one fact: it names the plugin, and Gather does the work.
type FactPlugin struct {
	Name    string
	Version string
	// Fact is the fact's name, an agentapi.Fact* constant.
	Fact string
	// Gather returns the fact's value; partial lists problems that left
	// the value incomplete (it is still delivered); err means there is no
	// value at all (a bad configuration, a tool that failed).
	Gather func(ctx context.Context, config json.RawMessage) (value any, partial []error, err error)
}

// Describe names the plugin and its one fact.
func (p FactPlugin) Describe(context.Context) (Description, error) {
	return Description{Name: p.Name, Version: p.Version, Facts: []string{p.Fact}}, nil
}

// Collect runs Gather. Its failures become error entries for the fact,
// which the agent reports under "plugin <Name>".
func (p FactPlugin) Collect(ctx context.Context, config json.RawMessage) (Result, error) {
	var res Result
	source := "plugin " + p.Name
	value, partial, err := p.Gather(ctx, config)
	for _, e := range partial {
		res.AddError(source, p.Fact, e.Error())
	}
	if err != nil {
		res.AddError(source, p.Fact, err.Error())
		return res, nil
	}
	res.SetFact(source, p.Fact, value)
	return res, nil
}
