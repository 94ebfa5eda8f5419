package pluginhost

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one plugin's start plus collection. The slowest
	// honest plugin is updates on Windows (a Windows Update Agent search
	// takes 5–15 s); past 20 s a plugin is stuck, and a cycle that waits
	// longer delays every other fact.
	DefaultTimeout = 20 * time.Second
	// DefaultConcurrency is how many plugins run at once: two keeps a
	// cycle short without loading a small laptop with five processes.
	DefaultConcurrency = 2
)

// BinaryPrefix starts the file name of every plugin binary.
const BinaryPrefix = "parc-plugin-"

// Config says where plugins are and which may run.
type Config struct {
	// Dir holds the plugin binaries, parc-plugin-<name>[.exe].
	Dir string `json:"dir" mapstructure:"dir"`
	// Timeout bounds each plugin's start and collection; 0 means
	// DefaultTimeout.
	Timeout time.Duration `json:"timeout" mapstructure:"timeout"`
	// Concurrency is how many plugins may run at once; 0 means
	// DefaultConcurrency.
	Concurrency int `json:"concurrency" mapstructure:"concurrency"`
	// TrustUnverified is for development only: plugins without a SHA-256
	// in Plugins run anyway (their hash is logged so it can be pasted into
	// the configuration), and every parc-plugin-* binary in Dir runs, even
	// one not listed. Never set it on a deployed unit: anyone who can write
	// to Dir would then run code as the agent.
	TrustUnverified bool `json:"trust_unverified" mapstructure:"trust_unverified"`
	// Plugins lists the plugins to run. Listing a plugin enables it.
	Plugins []PluginConfig `json:"plugins" mapstructure:"plugins"`
}

// PluginConfig is one plugin's entry in the agent configuration.
type PluginConfig struct {
	// Name is the plugin's name: the binary is parc-plugin-<Name>.
	Name string `json:"name" mapstructure:"name"`
	// SHA256 is the hex SHA-256 of the binary; the agent refuses to start
	// a binary whose hash differs.
	SHA256 string `json:"sha256" mapstructure:"sha256"`
	// Disabled keeps a listed plugin from running. It is a negative so
	// that the zero value of a listed entry runs it.
	Disabled bool `json:"disabled" mapstructure:"disabled"`
	// Config is passed to the plugin as is (its sample.yaml shows what it
	// accepts).
	Config json.RawMessage `json:"config,omitempty" mapstructure:"config"`
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// validate fills defaults and reports every problem at once. It returns the
// decoded hashes by plugin name (nil for an unverified plugin).
func (c *Config) validate() (map[string][]byte, error) {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("plugins: dir is empty: set the directory that holds the parc-plugin-* binaries"))
	}
	switch {
	case c.Timeout < 0:
		errs = append(errs, fmt.Errorf("plugins: timeout %s is negative", c.Timeout))
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.Concurrency < 0:
		errs = append(errs, fmt.Errorf("plugins: concurrency %d is negative", c.Concurrency))
	case c.Concurrency == 0:
		c.Concurrency = DefaultConcurrency
	}
	sums := make(map[string][]byte, len(c.Plugins))
	seen := make(map[string]bool, len(c.Plugins))
	for i, p := range c.Plugins {
		if !validName.MatchString(p.Name) {
			errs = append(errs, fmt.Errorf("plugins[%d]: name %q: want lower-case letters, digits, - and _ (the binary is %s<name>)", i, p.Name, BinaryPrefix))
			continue
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("plugins[%d]: plugin %q is listed twice", i, p.Name))
			continue
		}
		seen[p.Name] = true
		if len(p.Config) > 0 && !json.Valid(p.Config) {
			errs = append(errs, fmt.Errorf("plugin %s: config is not valid JSON", p.Name))
		}
		if p.SHA256 == "" {
			if !c.TrustUnverified {
				errs = append(errs, fmt.Errorf("plugin %s: sha256 is missing: set it to the SHA-256 of %s%s (sha256sum prints it), or set trust_unverified for development", p.Name, BinaryPrefix, p.Name))
			}
			sums[p.Name] = nil
			continue
		}
		sum, err := hex.DecodeString(p.SHA256)
		if err != nil || len(sum) != 32 {
			errs = append(errs, fmt.Errorf("plugin %s: sha256 %q is not 64 hex digits", p.Name, p.SHA256))
			continue
		}
		sums[p.Name] = sum
	}
	return sums, errors.Join(errs...)
}
