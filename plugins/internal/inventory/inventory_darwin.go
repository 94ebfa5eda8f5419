package inventory

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parc-project/parc/plugins/internal/plugutil"
)

// Installed lists the app bundles in /Applications (and one level of
// folders in it, such as /Applications/Utilities).
func Installed(ctx context.Context) ([]App, error) {
	paths, err := filepath.Glob("/Applications/*.app")
	if err != nil {
		return nil, err
	}
	sub, _ := filepath.Glob("/Applications/*/*.app")
	var apps []App
	for _, p := range append(paths, sub...) {
		app, err := readBundle(ctx, filepath.Join(p, "Contents", "Info.plist"))
		if err != nil {
			continue // a damaged bundle is not an installed application
		}
		apps = append(apps, app)
	}
	return apps, nil
}

// readBundle reads an Info.plist, converting a binary one to XML with
// plutil first.
func readBundle(ctx context.Context, path string) (App, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return App{}, err
	}
	if bytes.HasPrefix(data, []byte("bplist")) {
		if data, err = plugutil.Run(ctx, "plutil", "-convert", "xml1", "-o", "-", path); err != nil {
			return App{}, fmt.Errorf("converting %s: %w", path, err)
		}
	}
	return ParseInfoPlist(data)
}

// Running returns the base names of running processes.
func Running(ctx context.Context) (map[string]bool, error) {
	out, err := plugutil.Run(ctx, "ps", "-axo", "comm=")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	return ParsePSComm(out), nil
}
