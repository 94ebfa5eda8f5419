package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// tools lists what a Mac may have: app bundles (matched on bundle name or
// identifier) and their service processes.
func tools() []toolSpec {
	return []toolSpec{
		{Name: "teamviewer", Packages: []string{"com.teamviewer.TeamViewer", "TeamViewer*"}, Processes: []string{"teamviewer_service", "teamviewer"}},
		{Name: "rustdesk", Packages: []string{"com.carriez.rustdesk", "RustDesk"}, Processes: []string{"rustdesk"},
			IDFiles: []idFile{{"/var/root/Library/Preferences/com.carriez.RustDesk/RustDesk.toml", parseRustDeskToml}}},
		{Name: "meshcentral", Files: []string{"/usr/local/mesh_services/meshagent/meshagent", "/usr/local/mesh/meshagent"}, Processes: []string{"meshagent"}},
		{Name: "anydesk", Packages: []string{"com.philandro.anydesk", "AnyDesk"}, Processes: []string{"anydesk"},
			IDFiles: []idFile{{"/etc/anydesk/system.conf", parseAnyDeskConf}, {"/Library/Application Support/AnyDesk/system.conf", parseAnyDeskConf}}},
		// Screen Sharing is part of macOS; platformDetails asks launchd
		// whether it is enabled.
		{Name: "screensharing", Processes: []string{"screensharingd"}},
	}
}

// platformDetails reads TeamViewer's ClientID from its preferences (a
// binary plist, read through defaults) and whether Screen Sharing is on.
func platformDetails(ctx context.Context, tools []agentapi.RemoteTool) []error {
	var errs []error
	for i := range tools {
		t := &tools[i]
		switch t.Name {
		case "teamviewer":
			if !t.Installed {
				continue
			}
			out, err := plugutil.Run(ctx, "defaults", "read", "/Library/Preferences/com.teamviewer.teamviewer.preferences", "ClientID")
			if id := strings.TrimSpace(string(out)); err == nil && plausibleID(id) {
				t.DeviceID = id
			}
		case "screensharing":
			t.Installed = true
			// launchd knows the service only while Screen Sharing (or
			// Remote Management) is enabled in System Settings.
			_, err := plugutil.Run(ctx, "launchctl", "print", "system/com.apple.screensharing")
			switch {
			case err == nil:
				t.Running = true
			case plugutil.ExitCode(err) < 0 && !errors.Is(err, plugutil.ErrNotInstalled):
				errs = append(errs, fmt.Errorf("screen sharing state: %w", err))
			}
		}
	}
	return errs
}
