// Package config turns parc-agent's configuration (a YAML file, PARC_*
// environment variables and flags, in rising precedence) into a typed,
// validated Config.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/linkprobe"
	"github.com/parc-project/parc/agent/pluginhost"
)

// Config is parc-agent's configuration.
type Config struct {
	Server      string
	EnrollToken string
	// CAFile, when set, is the CA bundle to trust for the server instead
	// of the one the enroll token pins.
	CAFile   string
	StateDir string
	Interval time.Duration
	// Jitter spreads check-ins: each wait is Interval ± Jitter×Interval,
	// so that a thousand laptops switched on at 8:00 do not call at once.
	Jitter         float64
	CollectTimeout time.Duration
	Once           bool
	Print          bool
	LogLevel       string

	// SpoolMaxReports and SpoolMaxBytes bound the reports kept while the
	// server is unreachable; when full, the oldest go first.
	SpoolMaxReports int
	SpoolMaxBytes   int64
	// BandwidthInterval is the time between bandwidth measurements on the
	// same network (0: never measure); BandwidthURL a URL to measure
	// instead of the server's speed test.
	BandwidthInterval time.Duration
	BandwidthURL      string

	// Plugins configures the plugin host; nil when no plugins section is
	// given (the agent then reports only its built-in facts).
	Plugins *pluginhost.Config
	// PluginsInterval is how often the plugins run (plugins.interval);
	// the check-ins in between report their last facts.
	PluginsInterval time.Duration

	// Probe makes the agent a probe of its site's link (probe section of
	// the file); nil when the section is absent.
	Probe *linkprobe.Config
}

const (
	keyServer         = "server"
	keyEnrollToken    = "enroll-token"
	keyCAFile         = "ca-file"
	keyStateDir       = "state-dir"
	keyInterval       = "interval"
	keyJitter         = "jitter"
	keyCollectTimeout = "collect-timeout"
	keyOnce           = "once"
	keyPrint          = "print"
	keyLogLevel       = "log-level"
	keySpoolReports   = "spool-max-reports"
	keySpoolBytes     = "spool-max-bytes"
	keyBandwidthEvery = "bandwidth-interval"
	keyBandwidthURL   = "bandwidth-url"
)

// Flags declares every setting on fs.
func Flags(fs *pflag.FlagSet, defaultStateDir string) {
	fs.String("config", "", "configuration file (YAML); see configs/parc-agent.yaml")
	fs.String(keyServer, "", "parc-server URL, e.g. https://parc.example.org:8443; for a cluster without a load balancer, its replicas' URLs separated by commas (the agent moves to the next when one cannot be reached)")
	fs.String(keyEnrollToken, "", "enroll token (pe_...@sha256:...), needed only until the agent is enrolled; it names the server's CA, which the agent pins")
	fs.String(keyCAFile, "", "CA bundle (PEM) to trust for the server instead of the one the enroll token pins")
	fs.String(keyStateDir, defaultStateDir, "directory for the agent's credential, state and spool")
	fs.Duration(keyInterval, 5*time.Minute, "time between collections and check-ins")
	fs.Float64(keyJitter, 0.1, "random spread of the interval, as a fraction of it (0 to 0.5)")
	fs.Duration(keyCollectTimeout, 30*time.Second, "time limit of each collector")
	fs.Bool(keyOnce, false, "collect, send, and exit")
	fs.Bool(keyPrint, false, "collect and print the report as JSON; send nothing")
	fs.String(keyLogLevel, "info", "log level: debug, info, warn, error")
	fs.Int(keySpoolReports, 2000, "reports kept while the server is unreachable (a week at 5 minutes)")
	fs.Int64(keySpoolBytes, 64<<20, "bytes of reports kept while the server is unreachable")
	fs.Duration(keyBandwidthEvery, 4*time.Hour, "time between bandwidth measurements on one network (0: never)")
	fs.String(keyBandwidthURL, "", "URL to measure the download bandwidth against instead of the server's speed test")
}

// Load reads the configuration named by --config, the environment and fs.
func Load(fs *pflag.FlagSet) (Config, error) {
	v := viper.New()
	if err := v.BindPFlags(fs); err != nil {
		return Config{}, fmt.Errorf("binding flags: %w", err)
	}
	v.SetEnvPrefix("PARC")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if file := v.GetString("config"); file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("reading configuration %s: %w", file, err)
		}
	}
	cfg := Config{
		Server:         v.GetString(keyServer),
		EnrollToken:    v.GetString(keyEnrollToken),
		CAFile:         v.GetString(keyCAFile),
		StateDir:       v.GetString(keyStateDir),
		Interval:       v.GetDuration(keyInterval),
		Jitter:         v.GetFloat64(keyJitter),
		CollectTimeout: v.GetDuration(keyCollectTimeout),
		Once:           v.GetBool(keyOnce),
		Print:          v.GetBool(keyPrint),
		LogLevel:       v.GetString(keyLogLevel),

		SpoolMaxReports:   v.GetInt(keySpoolReports),
		SpoolMaxBytes:     v.GetInt64(keySpoolBytes),
		BandwidthInterval: v.GetDuration(keyBandwidthEvery),
		BandwidthURL:      v.GetString(keyBandwidthURL),
	}
	if v.IsSet(keyPlugins) {
		p, every, err := pluginsSection(v)
		if err != nil {
			return cfg, err
		}
		cfg.Plugins, cfg.PluginsInterval = p, every
	}
	if v.IsSet(keyProbe) {
		p, err := probeSection(v)
		if err != nil {
			return cfg, err
		}
		cfg.Probe = p
	}
	return cfg, cfg.Validate()
}

// keyPlugins is the configuration file's plugins section (file only: a
// list of plugins with their hashes is no flag).
const keyPlugins = "plugins"

// pluginsSection reads the plugins section. Each plugin's own config is a
// YAML map handed to the plugin as JSON, as its sample.yaml shows.
func pluginsSection(v *viper.Viper) (*pluginhost.Config, time.Duration, error) {
	var raw struct {
		Dir             string        `mapstructure:"dir"`
		Interval        time.Duration `mapstructure:"interval"`
		Timeout         time.Duration `mapstructure:"timeout"`
		Concurrency     int           `mapstructure:"concurrency"`
		TrustUnverified bool          `mapstructure:"trust_unverified"`
		List            []struct {
			Name     string         `mapstructure:"name"`
			SHA256   string         `mapstructure:"sha256"`
			Disabled bool           `mapstructure:"disabled"`
			Config   map[string]any `mapstructure:"config"`
		} `mapstructure:"list"`
	}
	if err := v.UnmarshalKey(keyPlugins, &raw); err != nil {
		return nil, 0, fmt.Errorf("plugins section: %w", err)
	}
	if !v.IsSet(keyPlugins + ".interval") {
		raw.Interval = defaultPluginsInterval
	}
	cfg := &pluginhost.Config{Dir: raw.Dir, Timeout: raw.Timeout, Concurrency: raw.Concurrency, TrustUnverified: raw.TrustUnverified}
	for _, p := range raw.List {
		pc := pluginhost.PluginConfig{Name: p.Name, SHA256: p.SHA256, Disabled: p.Disabled}
		if p.Config != nil {
			data, err := json.Marshal(p.Config)
			if err != nil {
				return nil, 0, fmt.Errorf("plugins: config of %s: %w", p.Name, err)
			}
			pc.Config = data
		}
		cfg.Plugins = append(cfg.Plugins, pc)
	}
	return cfg, raw.Interval, nil
}

// keyProbe is the configuration file's probe section (file only, like
// plugins).
const keyProbe = "probe"

// probeSection reads the probe section over linkprobe.Defaults.
func probeSection(v *viper.Viper) (*linkprobe.Config, error) {
	var raw struct {
		Enabled            bool          `mapstructure:"enabled"`
		Roles              []string      `mapstructure:"roles"`
		Interval           time.Duration `mapstructure:"interval"`
		Targets            []string      `mapstructure:"targets"`
		Attempts           int           `mapstructure:"attempts"`
		Timeout            time.Duration `mapstructure:"timeout"`
		ThroughputInterval time.Duration `mapstructure:"throughput_interval"`
	}
	if err := v.UnmarshalKey(keyProbe, &raw); err != nil {
		return nil, fmt.Errorf("probe section: %w", err)
	}
	c := linkprobe.Defaults
	c.Enabled, c.Roles, c.Targets = raw.Enabled, raw.Roles, raw.Targets
	for key, set := range map[string]func(){
		"interval":            func() { c.Interval = raw.Interval },
		"attempts":            func() { c.Attempts = raw.Attempts },
		"timeout":             func() { c.Timeout = raw.Timeout },
		"throughput_interval": func() { c.ThroughputInterval = raw.ThroughputInterval },
	} {
		if v.IsSet(keyProbe + "." + key) {
			set()
		}
	}
	return &c, nil
}

// defaultPluginsInterval: update state and installed software change a few
// times a day; a plugin run costs seconds of CPU (apt's solver, Windows
// Update's search).
const defaultPluginsInterval = time.Hour

// Validate reports every problem at once. --print needs no server.
func (c Config) Validate() error {
	var errs []error
	if !c.Print {
		if c.Server == "" {
			errs = append(errs, fmt.Errorf("%s: required (the parc-server URL)", keyServer))
		} else if _, err := client.ParseServers(c.Server); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", keyServer, err))
		}
		if c.StateDir == "" {
			errs = append(errs, fmt.Errorf("%s: required", keyStateDir))
		}
	}
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("%s %s: at least 1s", keyInterval, c.Interval))
	}
	if c.Jitter < 0 || c.Jitter > 0.5 {
		errs = append(errs, fmt.Errorf("%s %v: want 0 to 0.5", keyJitter, c.Jitter))
	}
	if c.CollectTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be positive", keyCollectTimeout))
	}
	if c.SpoolMaxReports < 1 || c.SpoolMaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("%s and %s: at least 1 report and 1 MiB", keySpoolReports, keySpoolBytes))
	}
	if c.BandwidthInterval != 0 && c.BandwidthInterval < 10*time.Minute {
		errs = append(errs, fmt.Errorf("%s %s: 0 (never) or at least 10m, to be polite to the school's link", keyBandwidthEvery, c.BandwidthInterval))
	}
	if c.BandwidthURL != "" {
		if u, err := url.Parse(c.BandwidthURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("%s %q: want an http(s) URL", keyBandwidthURL, c.BandwidthURL))
		}
	}
	if c.Probe != nil {
		if err := c.Probe.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%s %q: want debug, info, warn or error", keyLogLevel, c.LogLevel))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return nil
}
