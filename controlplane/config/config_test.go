package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs)
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "parc.yaml")
	os.WriteFile(file, []byte("listen: 0.0.0.0:9000\ndata-dir: /from/file\nlastseen-flush-interval: 7s\n"), 0o600)
	cfg, err := load(t, []string{"--config", file, "--data-dir", "/from/flag"},
		map[string]string{"PARC_LISTEN": "127.0.0.1:9100", "PARC_ETCD_ENDPOINTS": "http://a:2379,http://b:2379"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/flag" || cfg.Listen != "127.0.0.1:9100" || cfg.LastSeenFlush.String() != "7s" {
		t.Errorf("flag > env > file not respected: %+v", cfg)
	}
	if len(cfg.EtcdEndpoints) != 2 {
		t.Errorf("etcd endpoints from the environment: %v", cfg.EtcdEndpoints)
	}
}

func TestValidateReportsEverything(t *testing.T) {
	_, err := load(t, []string{"--listen", "nope", "--log-level", "loud", "--report-receipts-kept", "0", "--etcd-prefix", "parc", "--reconcile-lease", "500ms"}, nil)
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"listen", "log-level", "report-receipts-kept", "etcd-prefix", "reconcile-lease"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestSecurityDefaultsAndBounds(t *testing.T) {
	cfg, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InsecureHTTP || cfg.TLSCert != "" || cfg.RetentionPeriod.Hours() != 365*24 || cfg.AgentCredentialTTL.Hours() != 365*24 || cfg.AgentRate <= 0 || cfg.UserRate <= 0 {
		t.Errorf("defaults: %+v; want HTTPS with a managed CA, a year of retention and of credential life, rate limits on", cfg)
	}
	_, err = load(t, []string{"--tls-cert", "c.pem", "--tls-ca", "ca.pem", "--insecure-http", "--agent-credential-ttl", "1h",
		"--rate-limit-user", "-1", "--rate-limit-agent-burst", "0", "--retention-period", "1h", "--retention-interval", "0s"}, nil)
	if err == nil {
		t.Fatal("invalid security settings accepted")
	}
	for _, want := range []string{"tls-cert and tls-key", "insecure-http", "agent-credential-ttl", "rate-limit-user", "rate-limit-agent-burst", "retention-period", "retention-interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	cfg, err = load(t, []string{"--config", writeFile(t, "tls-hosts: [parc.example.org, 10.0.0.10]\nrate-limit-agent: 0\n")}, nil)
	if err != nil || len(cfg.TLSHosts) != 2 || cfg.AgentRate != 0 {
		t.Errorf("from a file: %+v %v", cfg, err)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "parc.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClusterExamples: the example configurations of deploy/cluster load,
// and describe one cluster: the same member list, each member in it under
// its own name and peer URL.
func TestClusterExamples(t *testing.T) {
	files, err := filepath.Glob("../../deploy/cluster/*.yaml")
	if err != nil || len(files) != 3 {
		t.Fatalf("deploy/cluster: %v %v, want 3 member files", files, err)
	}
	var initial string
	for _, f := range files {
		cfg, err := load(t, []string{"--config", f}, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if initial == "" {
			initial = cfg.EtcdInitialCluster
		}
		if cfg.EtcdInitialCluster != initial || !strings.Contains(initial, cfg.EtcdName+"="+cfg.EtcdPeerURL) || cfg.Name != cfg.EtcdName {
			t.Errorf("%s: member %s at %s (replica %s) in %q, want its own entry in the one list %q", f, cfg.EtcdName, cfg.EtcdPeerURL, cfg.Name, cfg.EtcdInitialCluster, initial)
		}
	}
}
