package main

import (
	"context"
	"fmt"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// wuaScript asks the Windows Update Agent through its COM API, driven from
// PowerShell (present on every supported Windows) rather than from Go
// through go-ole: the same API, without a COM binding to maintain in the
// plugin. The search is local against the WUA's cached catalogue plus one
// online check, as Settings > Windows Update does; nothing is downloaded.
const wuaScript = `$ErrorActionPreference = 'Stop'
$session = New-Object -ComObject Microsoft.Update.Session
$result = $session.CreateUpdateSearcher().Search("IsInstalled=0 and IsHidden=0 and Type='Software'")
$pending = @(foreach ($u in $result.Updates) {
  [pscustomobject]@{
    Title = $u.Title
    Security = [bool](@($u.Categories | Where-Object { $_.Name -eq 'Security Updates' }).Count)
  }
})
$last = (New-Object -ComObject Microsoft.Update.AutoUpdate).Results.LastInstallationSuccessDate
$lastText = ''
if ($last) { $lastText = ([datetime]$last).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') }
ConvertTo-Json -Compress -Depth 3 -InputObject ([pscustomobject]@{
  Pending = $pending
  RebootRequired = [bool](New-Object -ComObject Microsoft.Update.SystemInfo).RebootRequired
  LastSuccess = $lastText
})`

// collectOS asks the Windows Update Agent.
func collectOS(ctx context.Context) (updatesFacts, []error, error) {
	out, err := plugutil.Run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", wuaScript)
	if err != nil {
		return updatesFacts{Manager: "windows-update"}, nil, fmt.Errorf("asking Windows Update: %w", err)
	}
	f, err := parseWUA(out)
	if err != nil {
		return f, nil, err
	}
	return f, nil, nil
}
