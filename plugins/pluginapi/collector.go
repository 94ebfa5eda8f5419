package pluginapi

import (
	"context"
	"encoding/json"

	"github.com/parc-project/parc/agent/agentapi"
)

// Collector is what every plugin implements.
type Collector interface {
	// Describe says who the plugin is and which facts it may deliver. The
	// agent refuses facts a plugin did not declare.
	Describe(ctx context.Context) (Description, error)
	// Collect gathers the plugin's facts. config is the plugin's section of
	// the agent configuration as JSON (null or empty when none is set). A
	// failure of one fact goes into Result.Errors and the others are still
	// delivered; an error return means the plugin delivered nothing.
	Collect(ctx context.Context, config json.RawMessage) (Result, error)
}

// Description identifies a plugin.
type Description struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Facts   []string `json:"facts"`
}

// Result is what one collection delivers: facts by name (agentapi.Fact*
// constants, encoded as the matching agentapi struct) and the facts that
// could not be delivered.
type Result struct {
	Facts  map[string]json.RawMessage `json:"facts"`
	Errors []agentapi.FactError       `json:"errors,omitempty"`
}

// SetFact encodes v as the fact name. A value that does not marshal becomes
// an error entry instead, so one bad fact never costs the others.
func (r *Result) SetFact(source, name string, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		r.AddError(source, name, "encoding fact: "+err.Error())
		return
	}
	if r.Facts == nil {
		r.Facts = make(map[string]json.RawMessage)
	}
	r.Facts[name] = raw
}

// AddError records that fact could not be delivered by source.
func (r *Result) AddError(source, fact, msg string) {
	r.Errors = append(r.Errors, agentapi.FactError{Source: source, Fact: fact, Message: msg})
}
