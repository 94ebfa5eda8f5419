package collect

import (
	"context"
	"errors"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/battery"
)

// Battery collects the batteries' design and full-charge capacity, health,
// cycle count and charge. A machine without one has no data, which is not
// an error (the server judges a loaner without battery).
type Battery struct{}

// Name implements Collector.
func (Battery) Name() string { return "battery" }

// Collect implements Collector. A machine without a battery reports an
// empty battery section saying so, so that a reader tells "none" from "not
// collected".
func (Battery) Collect(ctx context.Context, r *agentapi.Report) error {
	facts, err := battery.Collect(ctx)
	if errors.Is(err, battery.ErrNoBattery) {
		r.Battery = &agentapi.BatteryFacts{Batteries: []agentapi.Battery{}, Note: "no battery found on this machine"}
		return nil
	}
	r.Battery = facts // partial facts come with their error
	return err
}
