//go:build linux

package battery

import (
	"context"

	"github.com/parc-project/parc/agent/agentapi"
)

// collect reads /sys; reading a few small sysfs files needs no context.
func collect(context.Context) (*agentapi.BatteryFacts, error) {
	return ReadSysfs("/sys")
}
