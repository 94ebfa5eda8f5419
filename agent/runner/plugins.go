package runner

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// pluginFacts keeps the plugins' last facts between their runs: update
// state or installed software does not change every five minutes, and a
// plugin run costs seconds of CPU (apt's dependency solver, Windows
// Update's search), so plugins run every PluginsInterval and the check-ins
// in between repeat what they found.
type pluginFacts struct {
	at  time.Time
	got agentapi.Report // only the plugins' sections and errors are set
}

// collectPlugins runs the plugins when due and puts their last facts in rep.
func (r *Runner) collectPlugins(ctx context.Context, rep *agentapi.Report) {
	if r.Plugins == nil {
		return
	}
	now := r.Now()
	if r.plugins == nil || r.PluginsInterval <= 0 || now.Sub(r.plugins.at) >= r.PluginsInterval {
		var got agentapi.Report
		r.Plugins.Collect(ctx, &got)
		r.plugins = &pluginFacts{at: now, got: got}
	}
	g := &r.plugins.got
	rep.Updates, rep.RemoteSupport, rep.Software, rep.Peripherals, rep.AVKiosk = g.Updates, g.RemoteSupport, g.Software, g.Peripherals, g.AVKiosk
	for k, v := range g.Extra {
		if rep.Extra == nil {
			rep.Extra = map[string]json.RawMessage{}
		}
		rep.Extra[k] = v
	}
	for _, e := range g.Errors {
		if strings.HasPrefix(e.Source, "plugin") {
			rep.Errors = append(rep.Errors, e)
		}
	}
}
