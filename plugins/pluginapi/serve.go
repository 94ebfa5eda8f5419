package pluginapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	"sigs.k8s.io/yaml"
)

// Serve serves impl to the agent that started this process. It returns only
// when the agent is done with the plugin.
func Serve(impl Collector) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         PluginSet(impl),
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}

// Main is a plugin binary's whole main: started by the agent (the magic
// cookie is in the environment) it serves impl; started by a technician it
// answers on the command line, so a plugin can be tried without an agent:
//
//	parc-plugin-NAME -sample              print the sample configuration
//	parc-plugin-NAME -collect [-config F] collect once and print the result
func Main(impl Collector, sample []byte) {
	hs := Handshake()
	if os.Getenv(hs.MagicCookieKey) == hs.MagicCookieValue {
		Serve(impl)
		return
	}
	os.Exit(runCLI(context.Background(), impl, sample, os.Args[1:], os.Stdout, os.Stderr))
}

func runCLI(ctx context.Context, impl Collector, sample []byte, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parc-plugin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	printSample := fs.Bool("sample", false, "print the sample configuration (YAML) and exit")
	collect := fs.Bool("collect", false, "collect once and print the result as JSON")
	configPath := fs.String("config", "", "configuration file (YAML or JSON) for -collect")
	timeout := fs.Duration("timeout", time.Minute, "time limit for -collect")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case *printSample:
		_, _ = stdout.Write(sample)
		return 0
	case *collect:
		cfg, err := ConfigFromYAML(*configPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		res, err := impl.Collect(ctx, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "collect:", err)
			return 1
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	default:
		fmt.Fprintln(stderr, "This is a parc plugin: parc-agent starts it to collect facts.\nBy hand, use -collect or -sample:")
		fs.PrintDefaults()
		return 2
	}
}

// ConfigFromYAML reads a plugin configuration file (YAML, or JSON which is
// YAML too) and returns it as the JSON a plugin receives. An empty path
// means no configuration.
func ConfigFromYAML(path string) (json.RawMessage, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plugin configuration: %w", err)
	}
	js, err := YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("plugin configuration %s: %w", path, err)
	}
	return js, nil
}

// YAMLToJSON converts a YAML configuration (a plugin's sample.yaml, the
// agent's plugin section) to the JSON a plugin receives.
func YAMLToJSON(data []byte) (json.RawMessage, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("converting YAML to JSON: %w", err)
	}
	return js, nil
}

// DecodeConfig decodes a plugin's JSON configuration into dst, which holds
// the defaults. Unknown keys are an error: a misspelt option silently
// ignored would leave a technician wondering why it has no effect.
func DecodeConfig(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("plugin configuration: %w", err)
	}
	return nil
}
