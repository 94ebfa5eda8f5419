package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/inventory"
	"github.com/parc-project/parc/plugins/internal/testutil"
	"github.com/parc-project/parc/plugins/pluginapi"
)

func TestIDParsers(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) string
		data  []byte
		want  string
	}{
		{"teamviewer", parseTeamViewerConf, testutil.Fixture(t, "teamviewer-global-handmade.conf"), "1453218876"},
		{"rustdesk top-level id, not the one in [options]", parseRustDeskToml, testutil.Fixture(t, "RustDesk-handmade.toml"), "1327004588"},
		{"anydesk", parseAnyDeskConf, testutil.Fixture(t, "anydesk-system-handmade.conf"), "987654321"},
		{"teamviewer without id", parseTeamViewerConf, []byte("[strng] Proxy_IP = \"\"\n"), ""},
		{"rustdesk id not plausible", parseRustDeskToml, []byte("id = '12 34; rm -rf'\n"), ""},
		{"anydesk empty id", parseAnyDeskConf, []byte("ad.anynet.id=\n"), ""},
	}
	for _, tt := range tests {
		if got := tt.parse(tt.data); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCheckLinux runs the Linux tool table against fixtures: a dpkg status
// with TeamViewer, RustDesk and xrdp installed and AnyDesk removed, the
// processes of a running TeamViewer and a portable AnyDesk, and ID files.
func TestCheckLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Linux tool table is compiled only on Linux")
	}
	status, err := os.ReadFile("../internal/inventory/testdata/dpkg-status-remote-handmade")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := inventory.ParseDpkgStatus(bytes.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"/etc/teamviewer/global.conf":          testutil.Fixture(t, "teamviewer-global-handmade.conf"),
		"/root/.config/rustdesk/RustDesk.toml": testutil.Fixture(t, "RustDesk-handmade.toml"),
		"/etc/anydesk/system.conf":             testutil.Fixture(t, "anydesk-system-handmade.conf"),
		"/usr/local/mesh_services/meshagent/x": nil,
	}
	p := probe{
		apps:    apps,
		running: map[string]bool{"teamviewerd": true, "anydesk": true, "systemd": true},
		readFile: func(name string) ([]byte, error) {
			if d, ok := files[name]; ok {
				return d, nil
			}
			return nil, fs.ErrNotExist
		},
	}
	want := []agentapi.RemoteTool{
		{Name: "teamviewer", Installed: true, Running: true, Version: "15.59.3", DeviceID: "1453218876"},
		{Name: "rustdesk", Installed: true, Version: "1.3.2", DeviceID: "1327004588"},
		{Name: "meshcentral"},
		// Removed as a package, yet running: a portable copy is installed.
		{Name: "anydesk", Installed: true, Running: true, DeviceID: "987654321"},
		{Name: "xrdp", Installed: true, Version: "0.9.21.1-1"},
		{Name: "vnc"},
	}
	var got []agentapi.RemoteTool
	for _, s := range tools() {
		got = append(got, p.check(s))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestCollectHere runs the plugin on this machine: every tool of the
// platform is reported, installed or not.
func TestCollectHere(t *testing.T) {
	res, err := newPlugin().Collect(context.Background(), json.RawMessage(`{"skip":["vnc"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var f agentapi.RemoteSupportFacts
	if err := json.Unmarshal(res.Facts[agentapi.FactRemoteSupport], &f); err != nil {
		t.Fatalf("%v (errors %+v)", err, res.Errors)
	}
	if len(f.Tools) != len(tools())-1 {
		t.Errorf("%d tools reported, want %d (all but the skipped one): %+v", len(f.Tools), len(tools())-1, f.Tools)
	}
	for _, tool := range f.Tools {
		if tool.Name == "vnc" {
			t.Error("skipped tool reported")
		}
	}
	res, err = newPlugin().Collect(context.Background(), json.RawMessage(`{"skipp":[]}`))
	if err != nil || len(res.Errors) != 1 || res.Facts[agentapi.FactRemoteSupport] != nil {
		t.Errorf("misspelt option: facts %s errors %+v err %v; want one error and no fact", res.Facts, res.Errors, err)
	}
}

func TestSampleConfig(t *testing.T) {
	raw, err := pluginapi.YAMLToJSON(sample)
	if err != nil {
		t.Fatal(err)
	}
	res, err := newPlugin().Collect(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		if strings.Contains(e.Message, "configuration") {
			t.Errorf("sample.yaml rejected: %s", e.Message)
		}
	}
}
