package collect

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestIdentityFromSysfs(t *testing.T) {
	got := identityFromSysfs("testdata/dmi-thinkpad")
	want := identity{Vendor: "LENOVO", Model: "20XW004MFR", Serial: "PF2ABCDE", UUID: "4c4c4544-0042-3510-8052-b4c04f4e4d32"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := identityFromSysfs("testdata/no-such-dir"); got.Serial != "" || !strings.Contains(got.Note, "absent") {
		t.Errorf("missing DMI: %+v, want empty fields and a note", got)
	}
}

func TestIdentityFromSysfsUnreadableSerial(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode; this checks the unprivileged agent")
	}
	dir := t.TempDir()
	for name, v := range map[string]string{"sys_vendor": "Dell Inc.", "product_name": "Latitude 3420", "product_serial": "7XK2D73", "product_uuid": "x"} {
		os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644)
	}
	os.Chmod(filepath.Join(dir, "product_serial"), 0)
	got := identityFromSysfs(dir)
	if got.Vendor != "Dell Inc." || got.Serial != "" || !strings.Contains(got.Note, "root") {
		t.Errorf("got %+v, want vendor read, serial empty, and a note naming root", got)
	}
}

func TestIdentityFromIoreg(t *testing.T) {
	out, err := os.ReadFile("testdata/ioreg-macbookair.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := identityFromIoreg(string(out))
	want := identity{Vendor: "Apple Inc.", Model: "MacBookAir10,1", Serial: "C02F4432NQ:L", UUID: "3f1d9a2b-6c1e-5b7a-9d2e-8f0a1b2c3d4e"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func FuzzIdentityFromIoreg(f *testing.F) {
	if out, err := os.ReadFile("testdata/ioreg-macbookair.txt"); err == nil {
		f.Add(string(out))
	}
	f.Add(`"model" = <"x`)
	f.Fuzz(func(t *testing.T, s string) {
		identityFromIoreg(s) // must not panic
	})
}
