package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/parc-project/parc/agent/agentapi"
)

// tools lists what a Windows unit may have, matched on "Apps & features"
// names; platformDetails then asks the service manager whether each
// tool's service runs.
func tools() []toolSpec {
	return []toolSpec{
		{Name: "teamviewer", Packages: []string{"TeamViewer*"}, Processes: []string{"teamviewer_service"}},
		{Name: "rustdesk", Packages: []string{"RustDesk"}, Processes: []string{"rustdesk"},
			IDFiles: []idFile{{`C:\Windows\ServiceProfiles\LocalService\AppData\Roaming\RustDesk\config\RustDesk.toml`, parseRustDeskToml}}},
		{Name: "meshcentral", Packages: []string{"Mesh Agent"}, Files: []string{`C:\Program Files\Mesh Agent\MeshAgent.exe`}, Processes: []string{"meshagent"}},
		{Name: "anydesk", Packages: []string{"AnyDesk*"}, Processes: []string{"anydesk"},
			IDFiles: []idFile{{`C:\ProgramData\AnyDesk\system.conf`, parseAnyDeskConf}}},
		{Name: "rdp"},
		{Name: "quickassist", Packages: []string{"MicrosoftCorporationII.QuickAssist"}, Files: []string{`C:\Windows\System32\quickassist.exe`}, Processes: []string{"quickassist"}},
	}
}

// serviceName returns the Windows service of a tool, "" for none.
func serviceName(tool string) string {
	switch tool {
	case "teamviewer":
		return "TeamViewer"
	case "rustdesk":
		return "RustDesk"
	case "meshcentral":
		return "Mesh Agent"
	case "anydesk":
		return "AnyDesk"
	case "rdp":
		return "TermService"
	}
	return ""
}

// platformDetails sets Running from the service state, reads TeamViewer's
// ClientID from the registry, and says whether Remote Desktop accepts
// connections (installed = the RDP server exists, as on Pro and Education
// editions; running = its service runs and connections are allowed).
func platformDetails(_ context.Context, tools []agentapi.RemoteTool) []error {
	var errs []error
	for i := range tools {
		t := &tools[i]
		if svc := serviceName(t.Name); svc != "" {
			state, err := serviceState(svc)
			switch {
			case errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST):
			case err != nil:
				errs = append(errs, fmt.Errorf("%s service state: %w", t.Name, err))
			default:
				t.Installed = true
				t.Running = state == windows.SERVICE_RUNNING
			}
		}
		switch t.Name {
		case "teamviewer":
			if id := teamViewerClientID(); id != "" {
				t.DeviceID = id
			}
		case "rdp":
			if t.Running && !rdpAllowed() {
				t.Running = false
			}
		}
	}
	return errs
}

func serviceState(name string) (uint32, error) {
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return 0, err
	}
	defer windows.CloseServiceHandle(m)
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	s, err := windows.OpenService(m, n, windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return 0, err
	}
	defer windows.CloseServiceHandle(s)
	var st windows.SERVICE_STATUS
	if err := windows.QueryServiceStatus(s, &st); err != nil {
		return 0, err
	}
	return st.CurrentState, nil
}

// teamViewerClientID reads the ClientID DWORD TeamViewer keeps in HKLM (in
// the 32-bit view for the 32-bit builds).
func teamViewerClientID() string {
	for _, view := range []uint32{registry.WOW64_64KEY, registry.WOW64_32KEY} {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\TeamViewer`, registry.QUERY_VALUE|view)
		if err != nil {
			continue
		}
		id, _, err := k.GetIntegerValue("ClientID")
		k.Close()
		if err == nil && id != 0 {
			return strconv.FormatUint(id, 10)
		}
	}
	return ""
}

// rdpAllowed reads fDenyTSConnections: 0 means Remote Desktop is on.
func rdpAllowed() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Terminal Server`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	v, _, err := k.GetIntegerValue("fDenyTSConnections")
	return err == nil && v == 0
}
