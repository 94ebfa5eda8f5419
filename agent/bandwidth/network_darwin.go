package bandwidth

import (
	"context"
	"os/exec"

	"github.com/parc-project/parc/agent/agentapi"
)

// CurrentNetwork says which network the default route uses.
func CurrentNetwork(ctx context.Context) agentapi.Network {
	out, err := exec.CommandContext(ctx, "/sbin/route", "-n", "get", "default").Output()
	if err != nil {
		return network(KindUnknown, "", "")
	}
	iface := fromRouteGet(string(out))
	if iface == "" {
		return network(KindUnknown, "", "")
	}
	if out, err := exec.CommandContext(ctx, "/usr/sbin/networksetup", "-getairportnetwork", iface).Output(); err == nil {
		if ssid := ssidFromAirport(string(out)); ssid != "" {
			return network(KindWiFi, iface, ssid)
		}
	}
	return network(KindEthernet, iface, "")
}
