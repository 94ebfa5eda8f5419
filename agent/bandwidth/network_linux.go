package bandwidth

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/parc-project/parc/agent/agentapi"
)

// CurrentNetwork says which network the default route uses.
func CurrentNetwork(ctx context.Context) agentapi.Network {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return network(KindUnknown, "", "")
	}
	iface := defaultRouteInterface(string(data))
	if iface == "" {
		return network(KindUnknown, "", "")
	}
	_, err = os.Stat(filepath.Join("/sys/class/net", iface, "wireless"))
	kind := kindOfLinuxInterface(iface, err == nil)
	ssid := ""
	if kind == KindWiFi {
		// iw is the standard tool; without it the network is known by its
		// kind and interface only.
		if out, err := exec.CommandContext(ctx, "iw", "dev", iface, "link").Output(); err == nil {
			ssid = ssidFromIwLink(string(out))
		}
	}
	return network(kind, iface, ssid)
}
