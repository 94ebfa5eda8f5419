package bandwidth

import (
	"context"
	"os/exec"

	"github.com/parc-project/parc/agent/agentapi"
)

// CurrentNetwork says which network the unit is on: the connected Wi-Fi,
// else a wired or unknown one.
func CurrentNetwork(ctx context.Context) agentapi.Network {
	out, err := exec.CommandContext(ctx, "netsh", "wlan", "show", "interfaces").Output()
	if err == nil {
		if iface, ssid, connected := fromNetshWlan(string(out)); connected {
			return network(KindWiFi, iface, ssid)
		}
	}
	return network(KindEthernet, "", "")
}
