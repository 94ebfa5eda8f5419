package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
)

// pnpDevice is one entry of the JSON the Windows code asks PowerShell for:
// Get-PnpDevice -PresentOnly -Class Camera,Image,AudioEndpoint.
type pnpDevice struct {
	FriendlyName string `json:"FriendlyName"`
	Class        string `json:"Class"`
	InstanceID   string `json:"InstanceId"`
}

// parsePnP sorts Plug and Play devices. An audio endpoint's instance ID
// says its direction: SWD\MMDEVAPI\{0.0.0.00000000}.{…} renders (output),
// {0.0.1.00000000} captures (input).
func parsePnP(out []byte) (agentapi.PeripheralsFacts, error) {
	var f agentapi.PeripheralsFacts
	out = bytes.TrimSpace(out)
	if len(out) == 0 { // PowerShell prints nothing for an empty list
		return f, nil
	}
	var devs []pnpDevice
	if err := json.Unmarshal(out, &devs); err != nil {
		return f, fmt.Errorf("reading Plug and Play devices: %w", err)
	}
	for _, d := range devs {
		dev := agentapi.Device{Name: d.FriendlyName, Kind: windowsKind(d)}
		id := strings.ToUpper(d.InstanceID)
		switch {
		case d.Class == "Camera" || d.Class == "Image":
			f.Cameras = append(f.Cameras, dev)
		case d.Class == "AudioEndpoint" && strings.Contains(id, "{0.0.0."):
			f.AudioOutputs = append(f.AudioOutputs, dev)
		case d.Class == "AudioEndpoint" && strings.Contains(id, "{0.0.1."):
			f.AudioInputs = append(f.AudioInputs, dev)
		}
	}
	return f, nil
}

// windowsKind guesses the bus from the names Windows gives devices; the
// endpoint's own instance ID does not carry it.
func windowsKind(d pnpDevice) string {
	id, name := strings.ToUpper(d.InstanceID), strings.ToLower(d.FriendlyName)
	switch {
	case strings.HasPrefix(id, "USB\\"):
		return "usb"
	case strings.Contains(name, "bluetooth") || strings.Contains(name, "hands-free"):
		return "bluetooth"
	case strings.Contains(name, "headset") || strings.Contains(name, "casque"):
		return "headset"
	}
	return ""
}
