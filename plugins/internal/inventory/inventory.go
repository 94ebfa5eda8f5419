// Package inventory tells which applications are installed and which
// processes run, for the software and remotesupport plugins: dpkg or rpm on
// Linux, the Uninstall registry keys and MSIX packages on Windows, app
// bundles on macOS. Parsers are pure functions over captured files or
// output so that tests read fixtures.
package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// App is one installed application or package.
type App struct {
	// Name is what the system calls it: the package name (dpkg, rpm), the
	// DisplayName (Windows), the bundle name (macOS).
	Name    string
	Version string
	// Source says where it was found: dpkg, rpm, registry, msix, bundle.
	Source string
	// ID is the package name, registry key or bundle identifier.
	ID string
}

// ParseDpkgStatus reads /var/lib/dpkg/status and returns the packages
// whose status is "install ok installed" (removed packages whose
// configuration files remain are listed too, and are not installed).
func ParseDpkgStatus(r io.Reader) ([]App, error) {
	var apps []App
	var cur App
	var installed bool
	flush := func() {
		if cur.Name != "" && installed {
			cur.Source, cur.ID = "dpkg", cur.Name
			apps = append(apps, cur)
		}
		cur, installed = App{}, false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch key {
		case "Package":
			cur.Name = val
		case "Version":
			cur.Version = val
		case "Status":
			installed = strings.HasSuffix(val, " installed")
		}
	}
	flush()
	return apps, sc.Err()
}

// RPMQueryFormat makes `rpm -qa --qf` print what ParseRPMQuery reads.
const RPMQueryFormat = `%{NAME}\t%{VERSION}-%{RELEASE}\n`

// ParseRPMQuery reads `rpm -qa --qf RPMQueryFormat`.
func ParseRPMQuery(out []byte) []App {
	var apps []App
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, version, ok := strings.Cut(sc.Text(), "\t")
		if !ok || name == "" {
			continue
		}
		apps = append(apps, App{Name: name, Version: version, Source: "rpm", ID: name})
	}
	return apps
}

// ParseInfoPlist reads an app bundle's Contents/Info.plist in XML form and
// returns its name (CFBundleName, else CFBundleDisplayName), version
// (CFBundleShortVersionString, else CFBundleVersion) and identifier. Only
// the top-level dict's string values are read.
func ParseInfoPlist(data []byte) (App, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	// Info.plist files declare UTF-8; some old ones say otherwise.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	vals := make(map[string]string)
	var key string
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return App{}, fmt.Errorf("reading Info.plist: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "dict", "array":
				depth++
			case "key", "string":
				var text string
				if err := dec.DecodeElement(&text, &t); err != nil {
					return App{}, fmt.Errorf("reading Info.plist: %w", err)
				}
				if depth != 1 {
					continue
				}
				if t.Name.Local == "key" {
					key = text
				} else if key != "" {
					vals[key], key = text, ""
				}
			}
		case xml.EndElement:
			if t.Name.Local == "dict" || t.Name.Local == "array" {
				depth--
			}
		}
	}
	app := App{Name: firstOf(vals["CFBundleName"], vals["CFBundleDisplayName"]),
		Version: firstOf(vals["CFBundleShortVersionString"], vals["CFBundleVersion"]),
		ID:      vals["CFBundleIdentifier"], Source: "bundle"}
	if app.Name == "" && app.ID == "" {
		return app, errors.New("Info.plist names no bundle")
	}
	return app, nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// ProcNames returns the names of the running processes read from a /proc
// tree (each <pid>/comm), lower-cased. Processes that exit while it reads
// are skipped.
func ProcNames(procRoot string) (map[string]bool, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	names := make(map[string]bool)
	for _, e := range entries {
		if !e.IsDir() || strings.TrimLeft(e.Name(), "0123456789") != "" {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm"))
		if err != nil {
			continue
		}
		names[strings.ToLower(strings.TrimSpace(string(comm)))] = true
	}
	return names, nil
}

// ParsePSComm reads `ps -axo comm=` (macOS): one executable path a line.
// It returns the base names, lower-cased.
func ParsePSComm(out []byte) map[string]bool {
	names := make(map[string]bool)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			names[strings.ToLower(filepath.Base(l))] = true
		}
	}
	return names
}

// ParseTasklist reads `tasklist /fo csv /nh` (Windows): the image name is
// the first quoted field. It returns the names lower-cased, without .exe.
func ParseTasklist(out []byte) map[string]bool {
	names := make(map[string]bool)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(l, `"`) {
			continue
		}
		image, _, _ := strings.Cut(l[1:], `"`)
		if image != "" {
			names[strings.TrimSuffix(strings.ToLower(image), ".exe")] = true
		}
	}
	return names
}

// ParseAppxJSON reads the JSON array of {Name, Version} that
// Get-AppxPackage | Select-Object Name, Version | ConvertTo-Json prints.
func ParseAppxJSON(out []byte) ([]App, error) {
	var pkgs []struct{ Name, Version string }
	if err := json.Unmarshal(bytes.TrimSpace(out), &pkgs); err != nil {
		return nil, fmt.Errorf("reading MSIX package list: %w", err)
	}
	apps := make([]App, 0, len(pkgs))
	for _, p := range pkgs {
		if p.Name != "" {
			apps = append(apps, App{Name: p.Name, Version: p.Version, Source: "msix", ID: p.Name})
		}
	}
	return apps, nil
}

// Find returns the first application whose name or identifier matches one
// of patterns (shell wildcards, case ignored). Patterns are tried in order,
// so the most specific one listed first wins.
func Find(apps []App, patterns []string) (App, bool) {
	for _, p := range patterns {
		p = strings.ToLower(p)
		for _, a := range apps {
			for _, s := range []string{a.Name, a.ID} {
				if ok, _ := path.Match(p, strings.ToLower(s)); ok && s != "" {
					return a, true
				}
			}
		}
	}
	return App{}, false
}
