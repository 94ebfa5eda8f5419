// Package config turns parc-agent's configuration (a YAML file, PARC_*
// environment variables and flags, in rising precedence) into a typed,
// validated Config.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
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
)

// Flags declares every setting on fs.
func Flags(fs *pflag.FlagSet, defaultStateDir string) {
	fs.String("config", "", "configuration file (YAML); see configs/parc-agent.yaml")
	fs.String(keyServer, "", "parc-server URL, e.g. https://parc.example.org:8443")
	fs.String(keyEnrollToken, "", "enroll token (pe_...@sha256:...), needed only until the agent is enrolled; it names the server's CA, which the agent pins")
	fs.String(keyCAFile, "", "CA bundle (PEM) to trust for the server instead of the one the enroll token pins")
	fs.String(keyStateDir, defaultStateDir, "directory for the agent's credential, state and spool")
	fs.Duration(keyInterval, 5*time.Minute, "time between collections and check-ins")
	fs.Float64(keyJitter, 0.1, "random spread of the interval, as a fraction of it (0 to 0.5)")
	fs.Duration(keyCollectTimeout, 30*time.Second, "time limit of each collector")
	fs.Bool(keyOnce, false, "collect, send, and exit")
	fs.Bool(keyPrint, false, "collect and print the report as JSON; send nothing")
	fs.String(keyLogLevel, "info", "log level: debug, info, warn, error")
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
	}
	return cfg, cfg.Validate()
}

// Validate reports every problem at once. --print needs no server.
func (c Config) Validate() error {
	var errs []error
	if !c.Print {
		if c.Server == "" {
			errs = append(errs, fmt.Errorf("%s: required (the parc-server URL)", keyServer))
		} else if u, err := url.Parse(c.Server); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("%s %q: want https://host:port", keyServer, c.Server))
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
