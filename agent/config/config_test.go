package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/parc-project/parc/agent/linkprobe"
)

func load(t *testing.T, yaml string) (Config, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "parc-agent.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("parc-agent", pflag.ContinueOnError)
	Flags(fs, t.TempDir())
	if err := fs.Parse([]string{"--config", file, "--print"}); err != nil {
		t.Fatal(err)
	}
	return Load(fs)
}

func TestProbeSection(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    *linkprobe.Config
		wantErr string
	}{
		{"absent", "interval: 5m\n", nil, ""},
		{"defaults", "probe:\n  enabled: true\n", &linkprobe.Config{Enabled: true, Interval: 5 * time.Minute, Attempts: 4,
			Timeout: 2 * time.Second, ThroughputInterval: time.Hour}, ""},
		{"by role with targets", "probe:\n  roles: [kiosk, classroom]\n  interval: 10m\n  attempts: 6\n  targets: [\"parc.example.org:443\", 192.0.2.1]\n",
			&linkprobe.Config{Roles: []string{"kiosk", "classroom"}, Interval: 10 * time.Minute, Attempts: 6, Timeout: 2 * time.Second,
				ThroughputInterval: time.Hour, Targets: []string{"parc.example.org:443", "192.0.2.1"}}, ""},
		{"bad", "probe:\n  enabled: true\n  interval: 10s\n  targets: [\"x:0\"]\n", nil, "probe.interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, tt.yaml)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "probe.targets") {
					t.Fatalf("error %v, want one naming %s and probe.targets", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.Probe == nil) != (tt.want == nil) {
				t.Fatalf("probe %+v, want %+v", cfg.Probe, tt.want)
			}
			if tt.want != nil {
				got, want := *cfg.Probe, *tt.want
				if got.Enabled != want.Enabled || got.Interval != want.Interval || got.Attempts != want.Attempts || got.Timeout != want.Timeout ||
					got.ThroughputInterval != want.ThroughputInterval || strings.Join(got.Roles, ",") != strings.Join(want.Roles, ",") ||
					strings.Join(got.Targets, ",") != strings.Join(want.Targets, ",") {
					t.Errorf("probe %+v, want %+v", got, want)
				}
			}
		})
	}
}
