package main

import (
	"context"
	"encoding/json"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/pluginapi"
)

const (
	pluginName    = "peripherals"
	pluginVersion = "0.1.0"
	source        = "plugin " + pluginName
)

type collector struct{}

func (collector) Describe(context.Context) (pluginapi.Description, error) {
	return pluginapi.Description{Name: pluginName, Version: pluginVersion, Facts: []string{agentapi.FactPeripherals}}, nil
}

func (collector) Collect(ctx context.Context, raw json.RawMessage) (pluginapi.Result, error) {
	var res pluginapi.Result
	var cfg struct{}
	if err := pluginapi.DecodeConfig(raw, &cfg); err != nil {
		return res, err
	}
	// collectOS is in peripherals_<os>.go.
	facts, err := collectOS(ctx)
	if err != nil {
		res.AddError(source, agentapi.FactPeripherals, err.Error())
		return res, nil
	}
	res.SetFact(source, agentapi.FactPeripherals, normalise(facts))
	return res, nil
}

// normalise makes "none" an empty list rather than null, so that the
// server reads "no camera" and not "unknown".
func normalise(f agentapi.PeripheralsFacts) agentapi.PeripheralsFacts {
	for _, l := range []*[]agentapi.Device{&f.Cameras, &f.AudioInputs, &f.AudioOutputs} {
		if *l == nil {
			*l = []agentapi.Device{}
		}
	}
	return f
}
