// Command parc-plugin-software reports whether each application a unit
// must have (the collaboration client, the LTE modem software...) is
// installed, and its version.
package main

import (
	_ "embed"

	"github.com/parc-project/parc/plugins/pluginapi"
)

//go:embed sample.yaml
var sample []byte

func main() { pluginapi.Main(newPlugin(), sample) }
