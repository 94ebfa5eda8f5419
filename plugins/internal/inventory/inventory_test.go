package inventory

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/parc-project/parc/plugins/internal/testutil"
)

func TestParseDpkgStatus(t *testing.T) {
	tests := []struct {
		file string
		want []App
	}{
		{"dpkg-status-debian12", []App{
			{Name: "bash", Version: "5.2.15-2+b8", Source: "dpkg", ID: "bash"},
			{Name: "chromium", Version: "148.0.7778.167-1~deb12u1", Source: "dpkg", ID: "chromium"},
			{Name: "clamav", Version: "1.4.3+dfsg-1~deb12u2", Source: "dpkg", ID: "clamav"},
		}},
		{"dpkg-status-remote-handmade", []App{
			{Name: "teamviewer", Version: "15.59.3", Source: "dpkg", ID: "teamviewer"},
			{Name: "rustdesk", Version: "1.3.2", Source: "dpkg", ID: "rustdesk"},
			{Name: "xrdp", Version: "0.9.21.1-1", Source: "dpkg", ID: "xrdp"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			apps, err := ParseDpkgStatus(bytes.NewReader(testutil.Fixture(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) < len(tt.want) || !reflect.DeepEqual(apps[:len(tt.want)], tt.want) {
				t.Errorf("got %+v\nwant prefix %+v", apps, tt.want)
			}
			for _, a := range apps {
				if a.Name == "anydesk" {
					t.Error("removed package anydesk listed as installed")
				}
			}
		})
	}
}

func TestParseRPMQuery(t *testing.T) {
	apps := ParseRPMQuery(testutil.Fixture(t, "rpm-qa-rocky9-handmade.txt"))
	if len(apps) != 4 || apps[1] != (App{Name: "zoom", Version: "6.2.5.2439-1", Source: "rpm", ID: "zoom"}) {
		t.Errorf("got %+v", apps)
	}
}

func TestParseInfoPlist(t *testing.T) {
	app, err := ParseInfoPlist(testutil.Fixture(t, "zoom-Info-handmade.plist"))
	want := App{Name: "zoom.us", Version: "6.2.5 (42154)", Source: "bundle", ID: "us.zoom.xos"}
	if err != nil || app != want {
		t.Errorf("got %+v %v, want %+v", app, err, want)
	}
	if _, err := ParseInfoPlist([]byte("bplist00\x01")); err == nil {
		t.Error("binary plist accepted as XML")
	}
}

func TestProcNames(t *testing.T) {
	root := t.TempDir()
	for pid, comm := range map[string]string{"1": "systemd\n", "812": "teamviewerd\n", "2040": "RustDesk\n", "self": "bash\n"} {
		if err := os.MkdirAll(filepath.Join(root, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, pid, "comm"), []byte(comm), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "999"), 0o755); err != nil { // exited while read: no comm
		t.Fatal(err)
	}
	names, err := ProcNames(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(names)); !reflect.DeepEqual(got, []string{"rustdesk", "systemd", "teamviewerd"}) {
		t.Errorf("got %v", got)
	}
	if names, err := ProcNames("/proc"); err != nil || len(names) == 0 {
		t.Errorf("this machine's /proc: %d names, %v", len(names), err)
	}
}

func TestParseProcessLists(t *testing.T) {
	ps := ParsePSComm(testutil.Fixture(t, "ps-comm-sonoma-handmade.txt"))
	for _, n := range []string{"screensharingd", "teamviewer_service", "rustdesk", "launchd"} {
		if !ps[n] {
			t.Errorf("ps: %s missing from %v", n, ps)
		}
	}
	tl := ParseTasklist(testutil.Fixture(t, "tasklist-windows11-handmade.csv"))
	for _, n := range []string{"teamviewer_service", "anydesk", "meshagent", "ms-teams", "system idle process"} {
		if !tl[n] {
			t.Errorf("tasklist: %s missing from %v", n, tl)
		}
	}
}

func TestParseAppxJSON(t *testing.T) {
	apps, err := ParseAppxJSON(testutil.Fixture(t, "appx-windows11-handmade.json"))
	if err != nil || len(apps) != 3 || apps[1] != (App{Name: "MSTeams", Version: "24295.605.3225.8804", Source: "msix", ID: "MSTeams"}) {
		t.Errorf("got %+v %v", apps, err)
	}
	if _, err := ParseAppxJSON([]byte("Get-AppxPackage : Access is denied")); err == nil {
		t.Error("an error message accepted as a package list")
	}
}
