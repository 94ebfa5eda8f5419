package main

import (
	"context"
	"fmt"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// pnpScript lists present cameras and audio endpoints as a JSON array
// (-InputObject @() keeps a one-element list an array).
const pnpScript = `ConvertTo-Json -Compress -InputObject @(Get-PnpDevice -PresentOnly -Class Camera,Image,AudioEndpoint -ErrorAction SilentlyContinue | Select-Object FriendlyName, Class, InstanceId)`

func collectOS(ctx context.Context) (agentapi.PeripheralsFacts, error) {
	out, err := plugutil.Run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", pnpScript)
	if err != nil {
		return agentapi.PeripheralsFacts{}, fmt.Errorf("listing Plug and Play devices: %w", err)
	}
	return parsePnP(out)
}
