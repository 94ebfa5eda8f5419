//go:build !linux && !windows && !darwin

package bandwidth

import (
	"context"

	"github.com/parc-project/parc/agent/agentapi"
)

// CurrentNetwork is unknown on this platform.
func CurrentNetwork(context.Context) agentapi.Network { return network(KindUnknown, "", "") }
