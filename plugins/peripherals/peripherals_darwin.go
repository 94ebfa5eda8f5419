package main

import (
	"context"
	"fmt"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/plugutil"
)

func collectOS(ctx context.Context) (agentapi.PeripheralsFacts, error) {
	out, err := plugutil.Run(ctx, "system_profiler", "SPCameraDataType", "SPAudioDataType", "-json")
	if err != nil {
		return agentapi.PeripheralsFacts{}, fmt.Errorf("asking system_profiler: %w", err)
	}
	return parseSystemProfiler(out)
}
