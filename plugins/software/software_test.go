package main

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/inventory"
	"github.com/parc-project/parc/plugins/pluginapi"
)

func TestCheck(t *testing.T) {
	apps := []inventory.App{
		{Name: "Microsoft Teams classic", Version: "1.7.00.13456", Source: "registry", ID: "Teams"},
		{Name: "MSTeams", Version: "24295.605.3225.8804", Source: "msix", ID: "MSTeams"},
		{Name: "zoom.us", Version: "6.2.5 (42154)", Source: "bundle", ID: "us.zoom.xos"},
		{Name: "modemmanager", Version: "1.20.4-1", Source: "dpkg", ID: "modemmanager"},
	}
	required := []requirement{
		{Name: "Microsoft Teams", Match: []string{"MSTeams", "Microsoft Teams*"}},
		{Name: "Zoom", Match: []string{"Zoom Workplace*", "us.zoom.xos"}},
		{Name: "LTE modem software", Match: []string{"Sierra Wireless*", "ModemManager"}},
		{Name: "RustDesk"},
		{Name: "modemmanager"},
	}
	want := []agentapi.SoftwareItem{
		{Name: "Microsoft Teams", Installed: true, Version: "24295.605.3225.8804", Match: "msix: MSTeams"},
		{Name: "Zoom", Installed: true, Version: "6.2.5 (42154)", Match: "bundle: zoom.us"},
		{Name: "LTE modem software", Installed: true, Version: "1.20.4-1", Match: "dpkg: modemmanager"},
		{Name: "RustDesk"},
		{Name: "modemmanager", Installed: true, Version: "1.20.4-1", Match: "dpkg: modemmanager"},
	}
	if got := check(required, apps).Items; !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestLoadConfig(t *testing.T) {
	raw, err := pluginapi.YAMLToJSON(sample)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(raw)
	if err != nil || len(cfg.Required) != 3 {
		t.Fatalf("sample.yaml: %+v %v", cfg, err)
	}
	for _, bad := range []string{`{"required":[{"match":["x"]}]}`, `{"required":[{"name":"x","match":["[oops"]}]}`, `{"require":[]}`} {
		if _, err := loadConfig(json.RawMessage(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestCollectHere runs against this machine's real package database: on the
// Debian test machine, bash is installed and a made-up name is not.
func TestCollectHere(t *testing.T) {
	res, err := newPlugin().Collect(context.Background(), json.RawMessage(`{"required":[{"name":"shell","match":["bash","bash*"]},{"name":"nothing","match":["parc-no-such-app"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Skipf("no package database readable here: %v", res.Errors)
	}
	var f agentapi.SoftwareFacts
	if err := json.Unmarshal(res.Facts[agentapi.FactSoftware], &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != 2 || !f.Items[0].Installed || f.Items[0].Version == "" || f.Items[1].Installed {
		t.Errorf("got %+v: want shell installed with a version, nothing not installed", f.Items)
	}
}
