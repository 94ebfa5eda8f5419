package main

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
)

// readV4L lists cameras from a sysfs root: each /sys/class/video4linux/
// videoN with index 0 (a UVC webcam also registers a metadata node, index
// 1, under the same name). USB cameras are told by their device link.
func readV4L(sysRoot string) ([]agentapi.Device, error) {
	dir := filepath.Join(sysRoot, "class", "video4linux")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no video4linux: no camera
	}
	if err != nil {
		return nil, err
	}
	var cams []agentapi.Device
	for _, e := range entries {
		node := filepath.Join(dir, e.Name())
		name, err := os.ReadFile(filepath.Join(node, "name"))
		if err != nil {
			continue
		}
		if idx, err := os.ReadFile(filepath.Join(node, "index")); err == nil && strings.TrimSpace(string(idx)) != "0" {
			continue
		}
		d := agentapi.Device{Name: strings.TrimSpace(string(name))}
		if link, err := os.Readlink(filepath.Join(node, "device")); err == nil && strings.Contains(link, "usb") {
			d.Kind = "usb"
		}
		cams = append(cams, d)
	}
	return cams, nil
}

// alsaCard is one line pair of /proc/asound/cards.
type alsaCard struct {
	Driver, Name string
}

// parseAsoundCards reads /proc/asound/cards:
//
//	1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS
//	                     GN Netcom A/S Jabra EVOLVE 20 MS at usb-0000:00:14.0-2, full speed
func parseAsoundCards(data []byte) map[string]alsaCard {
	cards := make(map[string]alsaCard)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		num, rest, ok := strings.Cut(line, " [")
		if !ok || strings.Trim(num, "0123456789") != "" || num == "" {
			continue
		}
		_, desc, ok := strings.Cut(rest, "]: ")
		if !ok {
			continue
		}
		driver, name, _ := strings.Cut(desc, " - ")
		cards[num] = alsaCard{Driver: strings.TrimSpace(driver), Name: strings.TrimSpace(name)}
	}
	return cards
}

// parseAsoundPCM reads /proc/asound/pcm, one PCM device a line:
//
//	01-00: USB Audio : USB Audio : playback 1 : capture 1
//
// and sorts them into inputs (capture) and outputs (playback), named after
// their card. HDMI outputs are told apart: a screen's speakers are no
// headset.
func parseAsoundPCM(data []byte, cards map[string]alsaCard) (inputs, outputs []agentapi.Device) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		cardNum, _, ok := strings.Cut(strings.TrimSpace(fields[0]), "-")
		if !ok {
			continue
		}
		cardNum = strings.TrimLeft(cardNum, "0")
		if cardNum == "" {
			cardNum = "0"
		}
		card := cards[cardNum]
		pcm := strings.TrimSpace(fields[1])
		d := agentapi.Device{Name: strings.TrimSpace(card.Name + " " + pcm)}
		switch {
		case card.Driver == "USB-Audio":
			d.Kind = "usb"
		case strings.Contains(strings.ToUpper(pcm), "HDMI"):
			d.Kind = "hdmi"
		case card.Driver != "":
			d.Kind = "builtin"
		}
		for _, f := range fields[3:] {
			switch strings.Fields(f + " x")[0] {
			case "playback":
				outputs = append(outputs, d)
			case "capture":
				inputs = append(inputs, d)
			}
		}
	}
	return inputs, outputs
}
