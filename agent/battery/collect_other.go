//go:build !linux && !darwin && !windows

package battery

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/parc-project/parc/agent/agentapi"
)

// collect says honestly that this platform is not read, rather than
// claiming there is no battery.
func collect(context.Context) (*agentapi.BatteryFacts, error) {
	return nil, fmt.Errorf("battery facts on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
