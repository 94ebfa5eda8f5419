//go:build darwin

package battery

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/parc-project/parc/agent/agentapi"
)

// collect runs ioreg and parses its output. ioreg rather than IOKit through
// cgo keeps the agent cross-compilable with CGO_ENABLED=0; it costs one
// short process per collection. The absolute path keeps a PATH set by
// someone else from choosing the program the agent runs as root.
func collect(ctx context.Context) (*agentapi.BatteryFacts, error) {
	out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-r", "-c", "AppleSmartBattery", "-a").Output()
	if err != nil {
		return nil, fmt.Errorf("running ioreg: %w", err)
	}
	return ParseIoreg(out)
}
