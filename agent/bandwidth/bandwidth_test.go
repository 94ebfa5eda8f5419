package bandwidth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

func read(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParsers(t *testing.T) {
	if got := defaultRouteInterface(read(t, "proc-net-route-laptop.txt")); got != "enp0s31f6" {
		t.Errorf("laptop default route: %q, want the docked ethernet (lower metric)", got)
	}
	if got := defaultRouteInterface(read(t, "proc-net-route-vm.txt")); got == "" {
		t.Errorf("vm default route not found")
	}
	if got := ssidFromIwLink(read(t, "iw-link.txt")); got != "Maison-Dupont 5G" {
		t.Errorf("iw SSID %q", got)
	}
	iface, ssid, connected := fromNetshWlan(read(t, "netsh-wlan-fr.txt"))
	if iface != "Wi-Fi" || ssid != "Livebox-7A2C" || !connected {
		t.Errorf("netsh fr: %q %q %v", iface, ssid, connected)
	}
	if _, _, connected := fromNetshWlan(read(t, "netsh-wlan-en-disconnected.txt")); connected {
		t.Error("netsh en: disconnected read as connected")
	}
	if got := fromRouteGet(read(t, "route-get-default.txt")); got != "en0" {
		t.Errorf("route get: %q", got)
	}
	if got := ssidFromAirport(read(t, "networksetup-airport.txt")); got != "Bbox-3F21" {
		t.Errorf("airport: %q", got)
	}
	for name, want := range map[string]string{"wlp2s0": KindWiFi, "wwan0": KindCellular, "enp3s0": KindEthernet, "eth0": KindEthernet, "tun0": KindUnknown} {
		if got := kindOfLinuxInterface(name, false); got != want {
			t.Errorf("kind of %s: %s, want %s", name, got, want)
		}
	}
	n := network(KindWiFi, "wlp2s0", "Maison-Dupont 5G")
	if n.SSIDHash == "" || strings.Contains(n.SSIDHash, "Dupont") || n.SSIDHash != network(KindWiFi, "x", "Maison-Dupont 5G").SSIDHash {
		t.Errorf("SSID hash %q: want a stable hash that hides the name", n.SSIDHash)
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	home := agentapi.Network{Kind: KindWiFi, SSIDHash: "aa"}
	school := agentapi.Network{Kind: KindEthernet}
	recent := &agentapi.BandwidthFacts{MeasuredAt: now.Add(-time.Hour), Network: home, DownloadMbps: 30}
	tests := []struct {
		name string
		last *agentapi.BandwidthFacts
		net  agentapi.Network
		want bool
	}{
		{"never measured", nil, home, true},
		{"recent, same network", recent, home, false},
		{"recent, other network", recent, school, true},
		{"old", &agentapi.BandwidthFacts{MeasuredAt: now.Add(-5 * time.Hour), Network: home}, home, true},
		{"failed 10 min ago", &agentapi.BandwidthFacts{MeasuredAt: now.Add(-10 * time.Minute), Network: home, Error: "x"}, home, false},
		{"failed 40 min ago", &agentapi.BandwidthFacts{MeasuredAt: now.Add(-40 * time.Minute), Network: home, Error: "x"}, home, true},
	}
	for _, tt := range tests {
		if got := Due(tt.last, tt.net, 4*time.Hour, now); got != tt.want {
			t.Errorf("%s: Due = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMeasure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer pa_x.y" || r.URL.Query().Get("bytes") != "3000000" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write(make([]byte, 3_000_000))
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL, nil, "test")
	c.SetCredential("pa_x.y")
	net := agentapi.Network{Kind: KindEthernet}
	f := Measure(context.Background(), c, Config{MaxBytes: 3_000_000, MaxDuration: 5 * time.Second}, net, nil, time.Now)
	if f.Error != "" || f.Bytes != 3_000_000 || f.DownloadMbps <= 0 || f.Network != net || f.MeasuredAt.IsZero() {
		t.Errorf("measurement %+v", f)
	}

	// A failure keeps the last good figures and says why.
	c.SetCredential("pa_wrong.z")
	failed := Measure(context.Background(), c, Config{MaxBytes: 3_000_000, MaxDuration: time.Second}, net, &f, time.Now)
	if failed.Error == "" || !strings.Contains(failed.Error, "401") || failed.DownloadMbps != f.DownloadMbps {
		t.Errorf("failed measurement %+v", failed)
	}
}

func FuzzParsers(f *testing.F) {
	for _, name := range []string{"proc-net-route-laptop.txt", "iw-link.txt", "netsh-wlan-fr.txt", "route-get-default.txt", "networksetup-airport.txt"} {
		f.Add(read(f, name))
	}
	f.Fuzz(func(t *testing.T, s string) {
		defaultRouteInterface(s)
		ssidFromIwLink(s)
		fromNetshWlan(s)
		fromRouteGet(s)
		ssidFromAirport(s)
	})
}
