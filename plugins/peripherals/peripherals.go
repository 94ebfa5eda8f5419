package main

import (
	"context"
	"encoding/json"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/pluginapi"
)

// newPlugin returns parc-plugin-peripherals.
func newPlugin() pluginapi.FactPlugin {
	return pluginapi.FactPlugin{Name: "peripherals", Version: "0.1.0", Fact: agentapi.FactPeripherals, Gather: gather}
}

func gather(ctx context.Context, raw json.RawMessage) (any, []error, error) {
	var cfg struct{}
	if err := pluginapi.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, err
	}
	// collectOS is in peripherals_<os>.go.
	facts, err := collectOS(ctx)
	if err != nil {
		return nil, nil, err
	}
	return normalise(facts), nil, nil
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
