//go:build !linux && !darwin && !windows

package main

import (
	"context"
	"errors"

	"github.com/parc-project/parc/agent/agentapi"
)

func collectOS(context.Context) (agentapi.PeripheralsFacts, error) {
	return agentapi.PeripheralsFacts{}, errors.New("peripherals: not supported on this operating system")
}
