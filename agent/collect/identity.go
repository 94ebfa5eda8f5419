package collect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// identity is what the firmware says the machine is. Fields stay empty when
// unreadable; the server treats placeholder values ("To be filled by
// O.E.M.") itself, the agent reports what it read.
type identity struct {
	Vendor, Model, Serial, UUID string
	// Note says why fields are empty, for the technician reading the report.
	Note string
}

// identityFromSysfs reads DMI identity from a sysfs directory such as
// /sys/class/dmi/id. product_serial and product_uuid are readable by root
// only: an agent running unprivileged reports them empty.
func identityFromSysfs(dir string) identity {
	if _, err := os.Stat(dir); err != nil {
		return identity{Note: "no firmware identity: " + dir + " is absent (no DMI table, as in some virtual machines)"}
	}
	denied := false
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrPermission) {
			denied = true
		}
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	id := identity{
		Vendor: read("sys_vendor"),
		Model:  read("product_name"),
		Serial: read("product_serial"),
		UUID:   strings.ToLower(read("product_uuid")),
	}
	if denied {
		id.Note = "serial and hardware UUID are readable by root only; run the agent as root (its service does)"
	}
	return id
}

var ioregProperty = regexp.MustCompile(`"(IOPlatformSerialNumber|IOPlatformUUID|model|manufacturer)" = <?"?([^">]*)"?>?`)

// identityFromIoreg parses `ioreg -rd1 -c IOPlatformExpertDevice` (macOS).
// model and manufacturer are printed as <"MacBookAir10,1"> byte strings.
func identityFromIoreg(out string) identity {
	var id identity
	for _, m := range ioregProperty.FindAllStringSubmatch(out, -1) {
		v := strings.TrimRight(strings.TrimSpace(m[2]), "\x00")
		switch m[1] {
		case "IOPlatformSerialNumber":
			id.Serial = v
		case "IOPlatformUUID":
			id.UUID = strings.ToLower(v)
		case "model":
			id.Model = v
		case "manufacturer":
			id.Vendor = v
		}
	}
	return id
}
