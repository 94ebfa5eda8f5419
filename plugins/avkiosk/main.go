// Command parc-plugin-avkiosk reports the state of an antivirus white
// station (a kiosk that scans USB sticks with ClamAV): signature database
// version and age, and the results of recent scans.
package main

import (
	_ "embed"

	"github.com/parc-project/parc/plugins/pluginapi"
)

//go:embed sample.yaml
var sample []byte

func main() { pluginapi.Main(newPlugin(), sample) }
