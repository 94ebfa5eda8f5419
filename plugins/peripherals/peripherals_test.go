package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func equalJSON(t *testing.T, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("got  %s\nwant %s", g, w)
	}
}

func TestLinux(t *testing.T) {
	root := filepath.Join("testdata", "linux-laptop")
	cams, err := readV4L(filepath.Join(root, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, cams, []agentapi.Device{{Name: "Integrated_Webcam_HD: Integrate", Kind: "usb"}, {Name: "Logitech BRIO", Kind: "usb"}})

	in, out := parseAsoundPCM(fixture(t, "linux-laptop/proc/asound/pcm"), parseAsoundCards(fixture(t, "linux-laptop/proc/asound/cards")))
	equalJSON(t, in, []agentapi.Device{{Name: "HDA Intel PCH ALC3246 Analog", Kind: "builtin"}, {Name: "Jabra EVOLVE 20 MS USB Audio", Kind: "usb"}})
	equalJSON(t, out, []agentapi.Device{{Name: "HDA Intel PCH ALC3246 Analog", Kind: "builtin"}, {Name: "HDA Intel PCH HDMI 0", Kind: "hdmi"},
		{Name: "HDA Intel PCH HDMI 1", Kind: "hdmi"}, {Name: "Jabra EVOLVE 20 MS USB Audio", Kind: "usb"}})
}

func TestLinuxNothingPresent(t *testing.T) {
	empty := t.TempDir()
	cams, err := readV4L(empty)
	if err != nil || cams != nil {
		t.Errorf("no video4linux: %v %v, want no camera and no error", cams, err)
	}
	f := normalise(agentapi.PeripheralsFacts{})
	if f.Cameras == nil || f.AudioInputs == nil || f.AudioOutputs == nil {
		t.Error("normalise left a nil list: the report would say unknown instead of none")
	}
}

func TestParsePnP(t *testing.T) {
	f, err := parsePnP(fixture(t, "pnp-windows11-handmade.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := agentapi.PeripheralsFacts{
		Cameras:      []agentapi.Device{{Name: "Integrated Webcam", Kind: "usb"}},
		AudioInputs:  []agentapi.Device{{Name: "Microphone Array (Realtek(R) Audio)"}, {Name: "Headset Microphone (Jabra EVOLVE 20 MS)", Kind: "headset"}},
		AudioOutputs: []agentapi.Device{{Name: "Speakers (Realtek(R) Audio)"}, {Name: "Headset Earphone (Jabra EVOLVE 20 MS)", Kind: "headset"}},
	}
	if !reflect.DeepEqual(f, want) {
		equalJSON(t, f, want)
	}
	if f, err := parsePnP([]byte("  \r\n")); err != nil || len(f.Cameras) != 0 {
		t.Errorf("empty answer: %+v %v", f, err)
	}
	if _, err := parsePnP([]byte("Get-PnpDevice : not recognized")); err == nil {
		t.Error("an error message accepted as a device list")
	}
}

func TestParseSystemProfiler(t *testing.T) {
	f, err := parseSystemProfiler(fixture(t, "system_profiler-sonoma-handmade.json"))
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, f, agentapi.PeripheralsFacts{
		Cameras:      []agentapi.Device{{Name: "FaceTime HD Camera"}},
		AudioInputs:  []agentapi.Device{{Name: "MacBook Air Microphone", Kind: "builtin"}, {Name: "Jabra EVOLVE 20 MS", Kind: "usb"}},
		AudioOutputs: []agentapi.Device{{Name: "MacBook Air Speakers", Kind: "builtin"}, {Name: "Jabra EVOLVE 20 MS", Kind: "usb"}},
	})
}
