package main

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/internal/testutil"
	"github.com/parc-project/parc/plugins/pluginapi"
)

func TestLinux(t *testing.T) {
	root := filepath.Join("testdata", "linux-laptop")
	cams, err := readV4L(filepath.Join(root, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.EqualJSON(t, cams, []agentapi.Device{{Name: "Integrated_Webcam_HD: Integrate", Kind: "usb"}, {Name: "Logitech BRIO", Kind: "usb"}})

	in, out := parseAsoundPCM(testutil.Fixture(t, "linux-laptop/proc/asound/pcm"), parseAsoundCards(testutil.Fixture(t, "linux-laptop/proc/asound/cards")))
	testutil.EqualJSON(t, in, []agentapi.Device{{Name: "HDA Intel PCH ALC3246 Analog", Kind: "builtin"}, {Name: "Jabra EVOLVE 20 MS USB Audio", Kind: "usb"}})
	testutil.EqualJSON(t, out, []agentapi.Device{{Name: "HDA Intel PCH ALC3246 Analog", Kind: "builtin"}, {Name: "HDA Intel PCH HDMI 0", Kind: "hdmi"},
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
	f, err := parsePnP(testutil.Fixture(t, "pnp-windows11-handmade.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := agentapi.PeripheralsFacts{
		Cameras:      []agentapi.Device{{Name: "Integrated Webcam", Kind: "usb"}},
		AudioInputs:  []agentapi.Device{{Name: "Microphone Array (Realtek(R) Audio)"}, {Name: "Headset Microphone (Jabra EVOLVE 20 MS)", Kind: "headset"}},
		AudioOutputs: []agentapi.Device{{Name: "Speakers (Realtek(R) Audio)"}, {Name: "Headset Earphone (Jabra EVOLVE 20 MS)", Kind: "headset"}},
	}
	if !reflect.DeepEqual(f, want) {
		testutil.EqualJSON(t, f, want)
	}
	if f, err := parsePnP([]byte("  \r\n")); err != nil || len(f.Cameras) != 0 {
		t.Errorf("empty answer: %+v %v", f, err)
	}
	if _, err := parsePnP([]byte("Get-PnpDevice : not recognized")); err == nil {
		t.Error("an error message accepted as a device list")
	}
}

func TestParseSystemProfiler(t *testing.T) {
	f, err := parseSystemProfiler(testutil.Fixture(t, "system_profiler-sonoma-handmade.json"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.EqualJSON(t, f, agentapi.PeripheralsFacts{
		Cameras:      []agentapi.Device{{Name: "FaceTime HD Camera"}},
		AudioInputs:  []agentapi.Device{{Name: "MacBook Air Microphone", Kind: "builtin"}, {Name: "Jabra EVOLVE 20 MS", Kind: "usb"}},
		AudioOutputs: []agentapi.Device{{Name: "MacBook Air Speakers", Kind: "builtin"}, {Name: "Jabra EVOLVE 20 MS", Kind: "usb"}},
	})
}

func TestSampleConfig(t *testing.T) {
	raw, err := pluginapi.YAMLToJSON(sample)
	if err != nil {
		t.Fatal(err)
	}
	res, err := newPlugin().Collect(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		if strings.Contains(e.Message, "configuration") {
			t.Errorf("sample.yaml rejected: %s", e.Message)
		}
	}
}
