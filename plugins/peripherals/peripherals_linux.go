package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/parc-project/parc/agent/agentapi"
)

func collectOS(context.Context) (agentapi.PeripheralsFacts, error) {
	return readLinux("/sys", "/proc")
}

// readLinux reads cameras and sound devices from sysfs and procfs roots.
// A machine without sound support has no /proc/asound: no devices.
func readLinux(sysRoot, procRoot string) (agentapi.PeripheralsFacts, error) {
	var f agentapi.PeripheralsFacts
	var err error
	if f.Cameras, err = readV4L(sysRoot); err != nil {
		return f, fmt.Errorf("cameras: %w", err)
	}
	cards, err := os.ReadFile(procRoot + "/asound/cards")
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("sound cards: %w", err)
	}
	pcm, err := os.ReadFile(procRoot + "/asound/pcm")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return f, fmt.Errorf("sound devices: %w", err)
	}
	f.AudioInputs, f.AudioOutputs = parseAsoundPCM(pcm, parseAsoundCards(cards))
	return f, nil
}
