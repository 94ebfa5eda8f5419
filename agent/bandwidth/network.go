package bandwidth

import (
	"bufio"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
)

// Network kinds.
const (
	KindEthernet = "ethernet"
	KindWiFi     = "wifi"
	KindCellular = "cellular"
	KindUnknown  = "unknown"
)

// defaultRouteInterface finds the interface of the default IPv4 route in
// /proc/net/route (Linux).
func defaultRouteInterface(procNetRoute string) string {
	sc := bufio.NewScanner(strings.NewReader(procNetRoute))
	best, bestMetric := "", -1
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Iface Destination Gateway Flags RefCnt Use Metric Mask ...
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		metric := 0
		for _, c := range f[6] {
			if c < '0' || c > '9' {
				metric = -1
				break
			}
			metric = metric*10 + int(c-'0')
			if metric > 1<<20 {
				break
			}
		}
		if best == "" || (metric >= 0 && metric < bestMetric) {
			best, bestMetric = f[0], metric
		}
	}
	return best
}

// kindOfLinuxInterface names a Linux interface's kind from its name and
// what sysfs says (wireless: /sys/class/net/IF/wireless exists).
func kindOfLinuxInterface(name string, wireless bool) string {
	switch {
	case wireless || strings.HasPrefix(name, "wl"):
		return KindWiFi
	case strings.HasPrefix(name, "ww") || strings.HasPrefix(name, "ppp") || strings.HasPrefix(name, "wwan") || strings.HasPrefix(name, "rmnet"):
		return KindCellular
	case strings.HasPrefix(name, "en") || strings.HasPrefix(name, "eth"):
		return KindEthernet
	}
	return KindUnknown
}

// ssidFromIwLink reads the SSID from `iw dev IF link`.
func ssidFromIwLink(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "SSID:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fromNetshWlan reads `netsh wlan show interfaces` (Windows): the connected
// Wi-Fi interface and its SSID, if any.
func fromNetshWlan(out string) (iface, ssid string, connected bool) {
	for _, line := range strings.Split(out, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch strings.ToLower(key) {
		case "name", "nom":
			iface = value
		case "ssid":
			ssid = value
		case "state", "état", "etat":
			connected = strings.EqualFold(value, "connected") || strings.EqualFold(value, "connecté")
		}
	}
	return iface, ssid, connected
}

// fromRouteGet reads the interface of `route -n get default` (macOS).
func fromRouteGet(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "interface:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ssidFromAirport reads `networksetup -getairportnetwork IF` (macOS).
func ssidFromAirport(out string) string {
	v, ok := strings.CutPrefix(strings.TrimSpace(out), "Current Wi-Fi Network:")
	if !ok {
		return ""
	}
	return strings.TrimSpace(v)
}

// network assembles a Network, hashing the SSID.
func network(kind, iface, ssid string) agentapi.Network {
	if kind == "" {
		kind = KindUnknown
	}
	return agentapi.Network{Kind: kind, Interface: iface, SSIDHash: hashSSID(ssid)}
}
