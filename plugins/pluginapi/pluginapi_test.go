package pluginapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/parc-project/parc/agent/agentapi"
)

// echoCollector returns its configuration as the fact "echo", or fails when
// the configuration asks it to.
type echoCollector struct{}

func (echoCollector) Describe(context.Context) (Description, error) {
	return Description{Name: "echo", Version: "1.2.3", Facts: []string{"echo"}}, nil
}

func (echoCollector) Collect(_ context.Context, cfg json.RawMessage) (Result, error) {
	var c struct {
		Fail    string `json:"fail"`
		FactErr string `json:"fact_err"`
	}
	if err := DecodeConfig(cfg, &c); err != nil {
		return Result{}, err
	}
	if c.Fail != "" {
		return Result{}, errors.New(c.Fail)
	}
	var r Result
	r.SetFact("plugin echo", "echo", map[string]string{"cfg": string(cfg)})
	if c.FactErr != "" {
		r.AddError("plugin echo", "other", c.FactErr)
	}
	return r, nil
}

func dispense(t *testing.T) Collector {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, PluginSet(echoCollector{}))
	t.Cleanup(func() { client.Close(); server.Stop() })
	raw, err := client.Dispense(PluginKey)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := raw.(Collector)
	if !ok {
		t.Fatalf("dispensed %T, not a Collector", raw)
	}
	return c
}

func TestGRPCRoundTrip(t *testing.T) {
	c := dispense(t)
	ctx := context.Background()
	d, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Description{Name: "echo", Version: "1.2.3", Facts: []string{"echo"}}); !reflect.DeepEqual(d, want) {
		t.Errorf("Describe = %+v, want %+v", d, want)
	}

	tests := []struct {
		name      string
		cfg       string
		wantFact  string
		wantErrs  []agentapi.FactError
		wantError string
	}{
		{name: "no config", cfg: "", wantFact: `{"cfg":""}`},
		{name: "config passed through", cfg: `{"fact_err":"x"}`, wantFact: `{"cfg":"{\"fact_err\":\"x\"}"}`,
			wantErrs: []agentapi.FactError{{Source: "plugin echo", Fact: "other", Message: "x"}}},
		{name: "collect fails", cfg: `{"fail":"disk on fire"}`, wantError: "disk on fire"},
		{name: "unknown option", cfg: `{"fial":"x"}`, wantError: `unknown field "fial"`},
		{name: "invalid JSON", cfg: `{`, wantError: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Collect(ctx, json.RawMessage(tt.cfg))
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Facts["echo"]); got != tt.wantFact {
				t.Errorf("fact = %s, want %s", got, tt.wantFact)
			}
			if !reflect.DeepEqual(res.Errors, tt.wantErrs) {
				t.Errorf("errors = %+v, want %+v", res.Errors, tt.wantErrs)
			}
		})
	}
}

func TestSetFactUnmarshalable(t *testing.T) {
	var r Result
	r.SetFact("plugin x", "bad", func() {})
	r.SetFact("plugin x", "good", 1)
	if _, ok := r.Facts["bad"]; ok {
		t.Error("unmarshalable fact was delivered")
	}
	if string(r.Facts["good"]) != "1" {
		t.Errorf("good fact = %s", r.Facts["good"])
	}
	if len(r.Errors) != 1 || r.Errors[0].Fact != "bad" {
		t.Errorf("errors = %+v, want one for fact bad", r.Errors)
	}
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "echo.yaml")
	if err := os.WriteFile(cfgPath, []byte("fact_err: oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "sample", args: []string{"-sample"}, wantCode: 0, wantOut: "# sample\n"},
		{name: "collect with YAML config", args: []string{"-collect", "-config", cfgPath}, wantCode: 0, wantOut: `"message": "oops"`},
		{name: "missing config file", args: []string{"-collect", "-config", filepath.Join(dir, "nope.yaml")}, wantCode: 1, wantErr: "reading plugin configuration"},
		{name: "no flag", args: nil, wantCode: 2, wantErr: "This is a parc plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runCLI(context.Background(), echoCollector{}, []byte("# sample\n"), tt.args, &out, &errOut)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

func TestFactPlugin(t *testing.T) {
	p := FactPlugin{Name: "demo", Version: "1", Fact: "demo_fact",
		Gather: func(_ context.Context, cfg json.RawMessage) (any, []error, error) {
			switch string(cfg) {
			case `"fail"`:
				return nil, nil, errors.New("tool failed")
			case `"partial"`:
				return 2, []error{errors.New("half of it")}, nil
			}
			return 1, nil, nil
		}}
	d, _ := p.Describe(context.Background())
	if !reflect.DeepEqual(d, Description{Name: "demo", Version: "1", Facts: []string{"demo_fact"}}) {
		t.Errorf("Describe = %+v", d)
	}
	tests := []struct {
		cfg      string
		wantFact string
		wantErrs []agentapi.FactError
	}{
		{`null`, "1", nil},
		{`"partial"`, "2", []agentapi.FactError{{Source: "plugin demo", Fact: "demo_fact", Message: "half of it"}}},
		{`"fail"`, "", []agentapi.FactError{{Source: "plugin demo", Fact: "demo_fact", Message: "tool failed"}}},
	}
	for _, tt := range tests {
		res, err := p.Collect(context.Background(), json.RawMessage(tt.cfg))
		if err != nil || string(res.Facts["demo_fact"]) != tt.wantFact || !reflect.DeepEqual(res.Errors, tt.wantErrs) {
			t.Errorf("%s: facts %s errors %+v err %v; want fact %q errors %+v", tt.cfg, res.Facts, res.Errors, err, tt.wantFact, tt.wantErrs)
		}
	}
}
