package main

import (
	"context"

	"github.com/parc-project/parc/agent/agentapi"
)

// tools lists what a Linux unit may have. The ID files are those the tools'
// system services write (they run as root).
func tools() []toolSpec {
	return []toolSpec{
		{Name: "teamviewer", Packages: []string{"teamviewer", "teamviewer-host"}, Processes: []string{"teamviewerd"},
			IDFiles: []idFile{{"/opt/teamviewer/config/global.conf", parseTeamViewerConf}, {"/etc/teamviewer/global.conf", parseTeamViewerConf}}},
		{Name: "rustdesk", Packages: []string{"rustdesk"}, Processes: []string{"rustdesk"},
			IDFiles: []idFile{{"/root/.config/rustdesk/RustDesk.toml", parseRustDeskToml}}},
		// The MeshCentral agent installs itself, not as a package. Its
		// NodeID is a hash of the certificate in meshagent.db, not stored
		// as text: it is not reported.
		{Name: "meshcentral", Files: []string{"/usr/local/mesh_services/meshagent/meshagent", "/usr/local/mesh/meshagent"}, Processes: []string{"meshagent"}},
		{Name: "anydesk", Packages: []string{"anydesk"}, Processes: []string{"anydesk"},
			IDFiles: []idFile{{"/etc/anydesk/system.conf", parseAnyDeskConf}}},
		{Name: "xrdp", Packages: []string{"xrdp"}, Processes: []string{"xrdp"}},
		{Name: "vnc", Packages: []string{"tigervnc-standalone-server", "tigervnc-scraping-server", "tigervnc-server", "x11vnc", "realvnc-vnc-server", "tightvncserver"},
			Processes: []string{"xvnc", "x0vncserver", "x11vnc", "vncserver-x11-core", "xtightvnc"}},
	}
}

// platformDetails has nothing to add on Linux: packages, files and
// processes say it all.
func platformDetails(context.Context, []agentapi.RemoteTool) []error { return nil }
