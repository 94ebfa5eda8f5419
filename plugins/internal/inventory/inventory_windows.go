package inventory

import (
	"context"
	"fmt"

	"golang.org/x/sys/windows/registry"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

const uninstallKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// Installed lists what "Apps & features" lists: the Uninstall keys of the
// machine (64- and 32-bit views) and of every loaded user profile (Zoom and
// others install per user), plus MSIX packages (the new Microsoft Teams is
// one, and has no Uninstall key).
func Installed(ctx context.Context) ([]App, error) {
	var apps []App
	apps = append(apps, readUninstall(registry.LOCAL_MACHINE, uninstallKey, registry.WOW64_64KEY)...)
	apps = append(apps, readUninstall(registry.LOCAL_MACHINE, uninstallKey, registry.WOW64_32KEY)...)
	if users, err := registry.USERS.ReadSubKeyNames(-1); err == nil {
		for _, sid := range users {
			apps = append(apps, readUninstall(registry.USERS, sid+`\`+uninstallKey, 0)...)
		}
	}
	msix, err := msixPackages(ctx)
	apps = append(apps, msix...)
	if err != nil {
		return apps, err
	}
	return apps, nil
}

func readUninstall(root registry.Key, path string, view uint32) []App {
	k, err := registry.OpenKey(root, path, registry.READ|view)
	if err != nil {
		return nil
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil
	}
	var apps []App
	for _, n := range names {
		sk, err := registry.OpenKey(k, n, registry.QUERY_VALUE|view)
		if err != nil {
			continue
		}
		name, _, _ := sk.GetStringValue("DisplayName")
		version, _, _ := sk.GetStringValue("DisplayVersion")
		sk.Close()
		if name != "" {
			apps = append(apps, App{Name: name, Version: version, Source: "registry", ID: n})
		}
	}
	return apps
}

// msixPackages lists MSIX/Appx packages of all users through PowerShell.
func msixPackages(ctx context.Context) ([]App, error) {
	out, err := plugutil.Run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command",
		"ConvertTo-Json -Compress -InputObject @(Get-AppxPackage -AllUsers | Select-Object Name, Version)")
	if err != nil {
		return nil, fmt.Errorf("listing MSIX packages: %w", err)
	}
	return ParseAppxJSON(out)
}

// Running returns the image names of running processes, without .exe.
func Running(ctx context.Context) (map[string]bool, error) {
	out, err := plugutil.Run(ctx, "tasklist.exe", "/fo", "csv", "/nh")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	return ParseTasklist(out), nil
}
