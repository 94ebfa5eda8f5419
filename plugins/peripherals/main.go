// Command parc-plugin-peripherals reports the cameras and audio inputs and
// outputs present: a webcam and a headset are part of a teacher's kit.
package main

import (
	_ "embed"

	"github.com/parc-project/parc/plugins/pluginapi"
)

//go:embed sample.yaml
var sample []byte

func main() { pluginapi.Main(newPlugin(), sample) }
