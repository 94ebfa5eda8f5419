package agentapi

import (
	"encoding/json"
	"testing"
)

func TestSetFact(t *testing.T) {
	var r Report
	if err := r.SetFact(FactUpdates, json.RawMessage(`{"manager":"apt","pending":4,"pending_security":1}`)); err != nil {
		t.Fatal(err)
	}
	if r.Updates == nil || r.Updates.Pending != 4 || r.Updates.PendingSecurity != 1 {
		t.Errorf("updates = %+v", r.Updates)
	}
	if err := r.SetFact("printer_toner", json.RawMessage(`{"black":40}`)); err != nil || string(r.Extra["printer_toner"]) != `{"black":40}` {
		t.Errorf("unknown fact: %v, extra %s", err, r.Extra)
	}
	if err := r.SetFact(FactSoftware, json.RawMessage(`{"items": "not a list"}`)); err == nil || r.Software != nil {
		t.Errorf("a fact of the wrong shape: err %v, section %+v; want an error and no section", err, r.Software)
	}
	if err := r.SetFact("other", json.RawMessage(`{broken`)); err == nil {
		t.Errorf("invalid JSON for an unknown fact accepted")
	}
}
