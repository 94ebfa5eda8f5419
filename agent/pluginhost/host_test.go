package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/pluginapi"
)

// The test binary doubles as every test plugin (go-plugin's helperProcess
// pattern): linked into a plugin directory as parc-plugin-<behaviour> and
// started by the host with the magic cookie set, it behaves as its name says.
// This tests the real process boundary: a real crash, a real hang.
func TestMain(m *testing.M) {
	hs := pluginapi.Handshake()
	if name, ok := strings.CutPrefix(filepath.Base(os.Args[0]), BinaryPrefix); ok && os.Getenv(hs.MagicCookieKey) == hs.MagicCookieValue {
		runTestPlugin(name)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// markerEnv names a directory where test plugins leave a file when they
// start, so a test can prove a binary was never run.
const markerEnv = "PARC_PLUGINHOST_TEST_MARKERS"

func runTestPlugin(name string) {
	if dir := os.Getenv(markerEnv); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	switch name {
	case "badproto":
		// A plugin built against a future protocol version.
		hs := pluginapi.Handshake()
		hs.ProtocolVersion = pluginapi.ProtocolVersion + 1
		plugin.Serve(&plugin.ServeConfig{HandshakeConfig: hs, Plugins: pluginapi.PluginSet(testCollector{name}), GRPCServer: plugin.DefaultGRPCServer})
	case "garbage":
		fmt.Println("Hello! I am definitely a plugin, trust me.")
		time.Sleep(100 * time.Millisecond)
	default:
		pluginapi.Serve(testCollector{name})
	}
}

type testCollector struct{ name string }

func (c testCollector) Describe(context.Context) (pluginapi.Description, error) {
	facts := []string{agentapi.FactUpdates}
	if c.name == "liar" {
		facts = append(facts, agentapi.FactPeripherals)
	}
	return pluginapi.Description{Name: c.name, Version: "test", Facts: facts}, nil
}

func (c testCollector) Collect(_ context.Context, cfg json.RawMessage) (pluginapi.Result, error) {
	var res pluginapi.Result
	switch c.name {
	case "panic":
		panic("boom: the plugin fell over")
	case "hang":
		select {} // ignores its context, as a stuck plugin would
	case "liar":
		// An undeclared fact, a fact the good plugin delivers too, and a
		// declared fact that does not decode.
		res.SetFact("plugin liar", agentapi.FactSoftware, agentapi.SoftwareFacts{})
		res.SetFact("plugin liar", agentapi.FactUpdates, agentapi.UpdatesFacts{Manager: "liar"})
		res.Facts[agentapi.FactPeripherals] = json.RawMessage(`{"cameras":"many"}`)
		return res, nil
	}
	var conf struct {
		Pending int `json:"pending"`
	}
	if err := pluginapi.DecodeConfig(cfg, &conf); err != nil {
		return res, err
	}
	res.SetFact("plugin "+c.name, agentapi.FactUpdates, agentapi.UpdatesFacts{Manager: "test", Pending: conf.Pending, PendingSecurity: -1})
	res.AddError("plugin "+c.name, agentapi.FactUpdates, "partial: security updates not told apart")
	return res, nil
}

// pluginDir links the test binary into a fresh directory under each name
// and returns the directory and the binary's SHA-256.
func pluginDir(t *testing.T, names ...string) (string, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := fileSHA256(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range names {
		if err := os.Symlink(self, filepath.Join(dir, BinaryPrefix+n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir, sum
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func errorsBySource(r *agentapi.Report) map[string][]agentapi.FactError {
	m := make(map[string][]agentapi.FactError)
	for _, e := range r.Errors {
		m[e.Source] = append(m[e.Source], e)
	}
	return m
}

func TestCollectFailuresCostOnlyTheirOwnResult(t *testing.T) {
	names := []string{"good", "panic", "hang", "badproto", "garbage", "liar"}
	dir, sum := pluginDir(t, names...)
	cfg := Config{Dir: dir, Timeout: 3 * time.Second, Concurrency: len(names)}
	for _, n := range names {
		pc := PluginConfig{Name: n, SHA256: sum}
		if n == "good" {
			pc.Config = json.RawMessage(`{"pending":7}`)
		}
		cfg.Plugins = append(cfg.Plugins, pc)
	}
	h, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var r agentapi.Report
	h.Collect(context.Background(), &r)
	elapsed := time.Since(start)
	t.Logf("collect took %s; errors: %+v", elapsed, r.Errors)

	if r.Updates == nil || r.Updates.Manager != "test" || r.Updates.Pending != 7 {
		t.Errorf("facts of the good plugin: Updates = %+v, want manager test with 7 pending (config passed through)", r.Updates)
	}
	if r.Software != nil || r.Peripherals != nil {
		t.Errorf("bad facts of the liar were applied: %+v %+v", r.Software, r.Peripherals)
	}
	byS := errorsBySource(&r)
	tests := []struct {
		source string
		want   []string // one substring per expected error, in order
	}{
		{"plugin good", []string{"partial: security updates not told apart"}},
		{"plugin panic", []string{"crashed during collect: panic: boom: the plugin fell over"}},
		{"plugin hang", []string{"timed out after 3s (during collect)"}},
		{"plugin badproto", []string{"did not start: incompatible API version with plugin. Plugin version: 2"}},
		{"plugin garbage", []string{"did not start: Unrecognized remote plugin message: Hello! I am definitely a plugin"}},
		{"plugin liar", []string{`fact "peripherals": json: cannot unmarshal`, `fact "software" it does not declare`, `fact "updates" already delivered by plugin good`}},
	}
	for _, tt := range tests {
		got := byS[tt.source]
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d errors %+v, want %d", tt.source, len(got), got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i].Message, w) {
				t.Errorf("%s: error %q, want it to contain %q", tt.source, got[i].Message, w)
			}
		}
	}
	if len(byS) != len(tests) {
		t.Errorf("errors from %d sources, want %d: %+v", len(byS), len(tests), r.Errors)
	}
	// The hang costs its timeout plus go-plugin's 2 s grace before the
	// kill; anything much longer means a plugin held up the others.
	if elapsed > 10*time.Second {
		t.Errorf("collect took %s: a failing plugin held the cycle up", elapsed)
	}
}

func TestWrongSHA256RefusesToRun(t *testing.T) {
	dir, sum := pluginDir(t, "good")
	markers := t.TempDir()
	t.Setenv(markerEnv, markers)
	wrong := strings.Repeat("0", 64)
	if wrong == sum {
		t.Fatal("test binary hashes to zero")
	}
	for _, tt := range []struct {
		sum     string
		started bool
	}{{wrong, false}, {sum, true}} {
		h, err := New(Config{Dir: dir, Plugins: []PluginConfig{{Name: "good", SHA256: tt.sum}}}, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		var r agentapi.Report
		h.Collect(context.Background(), &r)
		_, statErr := os.Stat(filepath.Join(markers, "good"))
		if started := statErr == nil; started != tt.started {
			t.Errorf("sha256 %s…: plugin started = %v, want %v", tt.sum[:8], started, tt.started)
		}
		if tt.started {
			if r.Updates == nil {
				t.Errorf("right sha256: no facts; errors %+v", r.Errors)
			}
			continue
		}
		if r.Updates != nil || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "refused to run") || !strings.Contains(r.Errors[0].Message, "SHA-256 does not match") {
			t.Errorf("wrong sha256: updates %+v, errors %+v; want one refusal and no facts", r.Updates, r.Errors)
		}
	}
}

func TestPlan(t *testing.T) {
	dir, sum := pluginDir(t, "good", "stray")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	tests := []struct {
		name     string
		cfg      Config
		wantRuns []string
		wantErrs []string
		wantLog  string
	}{
		{name: "unlisted binary is not run", cfg: Config{Dir: dir, Plugins: []PluginConfig{{Name: "good", SHA256: sum}}},
			wantRuns: []string{"good"}, wantLog: "plugin=stray"},
		{name: "disabled plugin is not run", cfg: Config{Dir: dir, Plugins: []PluginConfig{{Name: "good", SHA256: sum, Disabled: true}}}},
		{name: "missing binary is an error", cfg: Config{Dir: dir, Plugins: []PluginConfig{{Name: "avkiosk", SHA256: sum}}},
			wantErrs: []string{"plugin avkiosk: binary not usable"}},
		{name: "trust unverified runs every binary", cfg: Config{Dir: dir, TrustUnverified: true, Plugins: []PluginConfig{{Name: "good"}}},
			wantRuns: []string{"good", "stray"}},
		{name: "missing directory", cfg: Config{Dir: filepath.Join(dir, "nope")},
			wantErrs: []string{"plugins: reading plugin directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			h, err := New(tt.cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			runs, errs := h.plan()
			var gotRuns, gotErrs []string
			for _, r := range runs {
				gotRuns = append(gotRuns, r.name)
			}
			for _, e := range errs {
				gotErrs = append(gotErrs, e.Source+": "+e.Message)
			}
			if fmt.Sprint(gotRuns) != fmt.Sprint(tt.wantRuns) {
				t.Errorf("runs = %v, want %v", gotRuns, tt.wantRuns)
			}
			if len(gotErrs) != len(tt.wantErrs) {
				t.Fatalf("errors = %q, want %q", gotErrs, tt.wantErrs)
			}
			for i := range gotErrs {
				if !strings.HasPrefix(gotErrs[i], tt.wantErrs[i]) {
					t.Errorf("error %q, want prefix %q", gotErrs[i], tt.wantErrs[i])
				}
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q, want it to contain %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	good := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{name: "valid", cfg: Config{Dir: "/x", Plugins: []PluginConfig{{Name: "updates", SHA256: good}}}},
		{name: "missing sha256 without trust", cfg: Config{Dir: "/x", Plugins: []PluginConfig{{Name: "updates"}}},
			wantErr: []string{"plugin updates: sha256 is missing"}},
		{name: "missing sha256 with trust", cfg: Config{Dir: "/x", TrustUnverified: true, Plugins: []PluginConfig{{Name: "updates"}}}},
		{name: "every problem at once", cfg: Config{Timeout: -time.Second, Plugins: []PluginConfig{
			{Name: "../evil", SHA256: good}, {Name: "a", SHA256: "xyz"}, {Name: "a", SHA256: good}, {Name: "b", SHA256: good, Config: json.RawMessage("{")},
		}}, wantErr: []string{"dir is empty", "timeout -1s is negative", `name "../evil"`, "sha256 \"xyz\" is not 64 hex", `"a" is listed twice`, "plugin b: config is not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if h.cfg.Timeout != DefaultTimeout || h.cfg.Concurrency != DefaultConcurrency {
					t.Errorf("defaults not filled: %+v", h.cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
