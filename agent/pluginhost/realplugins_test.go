package pluginhost

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// TestRealPlugins builds every plugin, verifies and runs each through the
// host on this machine, and checks that every fact arrives without error.
func TestRealPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five binaries: skipped with -short")
	}
	// name → package of parc's own plugins
	realPlugins := map[string]string{
		"avkiosk":       "github.com/parc-project/parc/plugins/avkiosk",
		"peripherals":   "github.com/parc-project/parc/plugins/peripherals",
		"remotesupport": "github.com/parc-project/parc/plugins/remotesupport",
		"software":      "github.com/parc-project/parc/plugins/software",
		"updates":       "github.com/parc-project/parc/plugins/updates",
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH: cannot build the plugins")
	}
	dir := t.TempDir()
	avTestdata, err := filepath.Abs("../../plugins/avkiosk/testdata")
	if err != nil {
		t.Fatal(err)
	}
	configs := map[string]string{
		// The fixture database and log: a real kiosk's are absent here.
		"avkiosk":  `{"database_dir":` + jsonString(filepath.Join(avTestdata, "db")) + `,"scan_logs":[` + jsonString(filepath.Join(avTestdata, "clamd-debian12-handmade.log")) + `],"recent_days":36500}`,
		"software": `{"required":[{"name":"ClamAV","match":["clamav"]},{"name":"Zoom","match":["zoom*"]}]}`,
	}
	cfg := Config{Dir: dir, Timeout: 60 * time.Second, Concurrency: 2}
	for name, pkg := range realPlugins {
		bin := filepath.Join(dir, BinaryPrefix+name)
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		cmd := exec.Command(goTool, "build", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
		sum, err := fileSHA256(bin)
		if err != nil {
			t.Fatal(err)
		}
		pc := PluginConfig{Name: name, SHA256: sum}
		if c, ok := configs[name]; ok {
			pc.Config = json.RawMessage(c)
		}
		cfg.Plugins = append(cfg.Plugins, pc)
	}
	h, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	var r agentapi.Report
	start := time.Now()
	h.Collect(context.Background(), &r)
	out, _ := json.MarshalIndent(&r, "", "  ")
	t.Logf("collected in %s:\n%s", time.Since(start), out)
	for _, e := range r.Errors {
		t.Errorf("error from %s: %s", e.Source, e.Message)
	}
	if r.Updates == nil || r.RemoteSupport == nil || r.Software == nil || r.Peripherals == nil || r.AVKiosk == nil {
		t.Fatalf("missing facts: updates %v, remote support %v, software %v, peripherals %v, av kiosk %v",
			r.Updates != nil, r.RemoteSupport != nil, r.Software != nil, r.Peripherals != nil, r.AVKiosk != nil)
	}
	if r.AVKiosk.SignatureVersion != 27830 || len(r.AVKiosk.Infections) != 2 {
		t.Errorf("av kiosk: %+v, want the fixture's signature version 27830 and its 2 infections", r.AVKiosk)
	}
	// clamav is installed on the test machine (the avkiosk test needs it).
	if len(r.Software.Items) != 2 || !r.Software.Items[0].Installed || r.Software.Items[1].Installed ||
		len(r.RemoteSupport.Tools) == 0 || r.Updates.Manager == "" {
		t.Errorf("software %+v, remote support %+v, updates manager %q", r.Software.Items, r.RemoteSupport.Tools, r.Updates.Manager)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
