// Command parc-plugin-updates reports the operating system's update state:
// pending updates (security ones apart where the OS tells), when updates
// last installed successfully, and whether a reboot is pending.
package main

import (
	_ "embed"

	"github.com/parc-project/parc/plugins/pluginapi"
)

//go:embed sample.yaml
var sample []byte

func main() { pluginapi.Main(newPlugin(), sample) }
