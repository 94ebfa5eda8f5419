//go:build !linux && !darwin && !windows

package main

import (
	"context"

	"github.com/parc-project/parc/agent/agentapi"
)

func tools() []toolSpec { return nil }

func platformDetails(context.Context, []agentapi.RemoteTool) []error { return nil }
