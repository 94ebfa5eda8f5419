// Command parc-plugin-remotesupport reports the remote-support tools of a
// unit (TeamViewer, RustDesk, MeshCentral agent, AnyDesk and the OS's own
// remote desktop): installed, running, version and device ID.
package main

import (
	_ "embed"

	"github.com/parc-project/parc/plugins/pluginapi"
)

//go:embed sample.yaml
var sample []byte

func main() { pluginapi.Main(newPlugin(), sample) }
