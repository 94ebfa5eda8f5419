package agentapi

import (
	"encoding/json"
	"fmt"
)

// Fact names: the names plugins give the facts they provide, equal to the
// report's JSON keys.
const (
	FactUpdates       = "updates"
	FactRemoteSupport = "remote_support"
	FactSoftware      = "software"
	FactPeripherals   = "peripherals"
	FactAVKiosk       = "av_kiosk"
	FactBandwidth     = "bandwidth"
	FactBattery       = "battery"
)

// SetFact decodes a fact delivered as JSON (by a plugin) into its section of
// the report. A name this version does not know lands in Extra untouched.
func (r *Report) SetFact(name string, raw json.RawMessage) error {
	var target any
	switch name {
	case FactUpdates:
		r.Updates = new(UpdatesFacts)
		target = r.Updates
	case FactRemoteSupport:
		r.RemoteSupport = new(RemoteSupportFacts)
		target = r.RemoteSupport
	case FactSoftware:
		r.Software = new(SoftwareFacts)
		target = r.Software
	case FactPeripherals:
		r.Peripherals = new(PeripheralsFacts)
		target = r.Peripherals
	case FactAVKiosk:
		r.AVKiosk = new(AVKioskFacts)
		target = r.AVKiosk
	default:
		if !json.Valid(raw) {
			return fmt.Errorf("fact %q: not valid JSON", name)
		}
		if r.Extra == nil {
			r.Extra = make(map[string]json.RawMessage)
		}
		r.Extra[name] = raw
		return nil
	}
	if err := json.Unmarshal(raw, target); err != nil {
		r.clearFact(name)
		return fmt.Errorf("fact %q: %w", name, err)
	}
	return nil
}

func (r *Report) clearFact(name string) {
	switch name {
	case FactUpdates:
		r.Updates = nil
	case FactRemoteSupport:
		r.RemoteSupport = nil
	case FactSoftware:
		r.Software = nil
	case FactPeripherals:
		r.Peripherals = nil
	case FactAVKiosk:
		r.AVKiosk = nil
	}
}
