package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
)

// systemProfiler is the part of `system_profiler SPCameraDataType
// SPAudioDataType -json` the plugin reads.
type systemProfiler struct {
	Cameras []struct {
		Name string `json:"_name"`
	} `json:"SPCameraDataType"`
	Audio []struct {
		Items []struct {
			Name      string `json:"_name"`
			Inputs    int    `json:"coreaudio_device_input"`
			Outputs   int    `json:"coreaudio_device_output"`
			Transport string `json:"coreaudio_device_transport"`
		} `json:"_items"`
	} `json:"SPAudioDataType"`
}

// parseSystemProfiler sorts cameras and Core Audio devices; a device with
// both input and output channels (a headset) is in both lists. The kind
// comes from the transport: coreaudio_device_type_usb → usb.
func parseSystemProfiler(out []byte) (agentapi.PeripheralsFacts, error) {
	var f agentapi.PeripheralsFacts
	var sp systemProfiler
	if err := json.Unmarshal(out, &sp); err != nil {
		return f, fmt.Errorf("reading system_profiler: %w", err)
	}
	for _, c := range sp.Cameras {
		f.Cameras = append(f.Cameras, agentapi.Device{Name: c.Name})
	}
	for _, group := range sp.Audio {
		for _, it := range group.Items {
			d := agentapi.Device{Name: it.Name, Kind: strings.TrimPrefix(it.Transport, "coreaudio_device_type_")}
			if it.Inputs > 0 {
				f.AudioInputs = append(f.AudioInputs, d)
			}
			if it.Outputs > 0 {
				f.AudioOutputs = append(f.AudioOutputs, d)
			}
		}
	}
	return f, nil
}
