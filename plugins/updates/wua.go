package main

import (
	"encoding/json"
	"fmt"
	"time"
)

// wuaAnswer is what wuaScript (updates_windows.go) prints: the Windows
// Update Agent's view, as JSON.
type wuaAnswer struct {
	Pending []struct {
		Title    string `json:"Title"`
		Security bool   `json:"Security"`
	} `json:"Pending"`
	RebootRequired bool `json:"RebootRequired"`
	// LastSuccess is the WUA's LastInstallationSuccessDate in UTC, ISO
	// 8601; empty when updates never installed.
	LastSuccess string `json:"LastSuccess"`
}

// parseWUA decodes the script's answer into facts. A security update is one
// in the "Security Updates" category.
func parseWUA(out []byte) (facts updatesFacts, err error) {
	var a wuaAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		return facts, fmt.Errorf("reading Windows Update answer: %w", err)
	}
	facts.Manager = "windows-update"
	facts.Packages = []string{}
	for _, u := range a.Pending {
		facts.Pending++
		facts.Packages = append(facts.Packages, u.Title)
		if u.Security {
			facts.PendingSecurity++
		}
	}
	facts.RebootRequired = a.RebootRequired
	if a.LastSuccess != "" {
		t, err := time.Parse(time.RFC3339, a.LastSuccess)
		if err != nil {
			return facts, fmt.Errorf("reading Windows Update last success date %q: %w", a.LastSuccess, err)
		}
		// WUA says 1601-01-01 (the FILETIME epoch) when it never installed.
		if t.Year() > 1601 {
			facts.LastSuccess = &t
		}
	}
	return facts, nil
}
