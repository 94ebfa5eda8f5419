// Package config turns parc-server's configuration (a YAML file, PARC_*
// environment variables and flags, in rising precedence) into a typed,
// validated Config.
package config

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/parc-project/parc/controlplane/store"
)

// Config is parc-server's configuration.
type Config struct {
	Listen  string
	DataDir string

	EtcdEndpoints           []string
	EtcdName                string
	EtcdClientURL           string
	EtcdPeerURL             string
	EtcdInitialCluster      string
	EtcdInitialClusterState string
	EtcdClusterToken        string
	EtcdQuotaBytes          int64
	EtcdCompaction          time.Duration
	Prefix                  string

	LastSeenFlush        time.Duration
	ReceiptsKept         int
	ShutdownGrace        time.Duration
	AgentCheckinInterval time.Duration

	// ReadinessRules is the rules file; empty means the built-in defaults
	// (configs/readiness.yaml).
	ReadinessRules string
	Resync         time.Duration
	// ReconcileLease is the reconciler leader's etcd lease: when the
	// leader dies, another replica reconciles about this long (plus an
	// etcd election) later.
	ReconcileLease time.Duration
	// Name identifies this replica (reconciler election, logs).
	Name string
	// TLSCert and TLSKey, when set, are served instead of the certificate
	// parc-server makes from its own CA; TLSCA is then the bundle agents
	// pin (default: the top of TLSCert's chain).
	TLSCert, TLSKey, TLSCA string
	// TLSHosts are extra names and IPs of the managed server certificate.
	TLSHosts []string
	// InsecureHTTP serves plain HTTP: local development only.
	InsecureHTTP bool
	// AgentCredentialTTL is how long an agent credential is valid; agents
	// rotate theirs in the last third of it.
	AgentCredentialTTL time.Duration
	// Rate limits per agent and per user token, in requests per second
	// with a burst; 0 disables. In memory, per replica.
	AgentRate, UserRate   float64
	AgentBurst, UserBurst int
	// RetentionPeriod is how long audit entries and report receipts are
	// kept; RetentionInterval how often the retention job runs.
	RetentionPeriod, RetentionInterval time.Duration
	// SiteDark* decide when a site's link counts as down (package
	// sitelink): SiteDarkMinAgents and SiteDarkRatio of a site's agents
	// falling silent (not heard for SiteSilentAfter) within
	// SiteDarkWindow of each other. SiteLinkInterval is how often sites
	// are judged.
	SiteDarkWindow, SiteSilentAfter, SiteLinkInterval time.Duration
	SiteDarkMinAgents                                 int
	SiteDarkRatio                                     float64

	// MetricsOpen serves /metrics without authentication.
	MetricsOpen bool

	LogLevel  string
	LogFormat string
}

// Keys, identical in the file, the flags and (upper-cased, PARC_ prefix,
// '-' as '_') the environment.
const (
	keyListen             = "listen"
	keyDataDir            = "data-dir"
	keyEtcdEndpoints      = "etcd-endpoints"
	keyEtcdName           = "etcd-name"
	keyEtcdClientURL      = "etcd-client-url"
	keyEtcdPeerURL        = "etcd-peer-url"
	keyEtcdInitialCluster = "etcd-initial-cluster"
	keyEtcdClusterState   = "etcd-initial-cluster-state"
	keyEtcdClusterToken   = "etcd-initial-cluster-token"
	keyEtcdQuota          = "etcd-quota-bytes"
	keyEtcdCompaction     = "etcd-compaction-retention"
	keyPrefix             = "etcd-prefix"
	keyLastSeenFlush      = "lastseen-flush-interval"
	keyReceiptsKept       = "report-receipts-kept"
	keyShutdownGrace      = "shutdown-grace"
	keyCheckinInterval    = "agent-checkin-interval"
	keyReadinessRules     = "readiness-rules"
	keyResync             = "reconcile-resync"
	keyReconcileLease     = "reconcile-lease"
	keyName               = "name"
	keyLogLevel           = "log-level"
	keyLogFormat          = "log-format"
	keyTLSCert            = "tls-cert"
	keyTLSKey             = "tls-key"
	keyTLSCA              = "tls-ca"
	keyTLSHosts           = "tls-hosts"
	keyInsecureHTTP       = "insecure-http"
	keyAgentCredTTL       = "agent-credential-ttl"
	keyAgentRate          = "rate-limit-agent"
	keyAgentBurst         = "rate-limit-agent-burst"
	keyUserRate           = "rate-limit-user"
	keyUserBurst          = "rate-limit-user-burst"
	keyRetentionPeriod    = "retention-period"
	keyRetentionInterval  = "retention-interval"
	keyMetricsOpen        = "metrics-open"
	keySiteDarkWindow     = "site-dark-window"
	keySiteSilentAfter    = "site-silent-after"
	keySiteDarkMinAgents  = "site-dark-min-agents"
	keySiteDarkRatio      = "site-dark-ratio"
	keySiteLinkInterval   = "site-link-interval"
)

// Bounds of the agent credential lifetime. Loaners may stay offline at
// home for a whole summer, so a credential must outlive that (a week is the
// floor for tests and the impatient); beyond two years a stolen one stays
// useful too long.
const (
	minAgentCredentialTTL = 7 * 24 * time.Hour
	maxAgentCredentialTTL = 2 * 366 * 24 * time.Hour
)

// Flags declares every setting on fs with its default and help.
func Flags(fs *pflag.FlagSet) {
	fs.String("config", "", "configuration file (YAML); see configs/parc-server.yaml")
	fs.String(keyListen, "127.0.0.1:8080", "address the APIs and web UI listen on")
	fs.String(keyDataDir, "./parc-data", "directory for the embedded etcd member, the admin token and certificates")
	fs.StringSlice(keyEtcdEndpoints, nil, "external etcd endpoints; when set, no embedded member is started")
	fs.String(keyEtcdName, "default", "name of the embedded etcd member (unique within a cluster)")
	fs.String(keyEtcdClientURL, "http://127.0.0.1:2379", "client URL of the embedded etcd member")
	fs.String(keyEtcdPeerURL, "http://127.0.0.1:2380", "peer URL of the embedded etcd member")
	fs.String(keyEtcdInitialCluster, "", "embedded cluster members as name=peerURL,... (empty: a single node)")
	fs.String(keyEtcdClusterState, "new", `"new" to bootstrap the embedded cluster, "existing" to join one`)
	fs.String(keyEtcdClusterToken, "parc", "token that tells this embedded cluster apart from others")
	fs.Int64(keyEtcdQuota, 0, "etcd backend quota in bytes (0: etcd's default, 2 GiB)")
	fs.Duration(keyEtcdCompaction, time.Hour, "revision history the embedded etcd keeps before compacting")
	fs.String(keyPrefix, store.DefaultPrefix, "etcd key prefix under which parc keeps everything")
	fs.Duration(keyLastSeenFlush, 5*time.Second, "how often coalesced last-seen times are written to etcd (the most a crash loses)")
	fs.Int(keyReceiptsKept, 16, "report receipts kept per unit")
	fs.Duration(keyShutdownGrace, 20*time.Second, "on SIGTERM, how long requests in flight may take to finish")
	fs.Duration(keyCheckinInterval, 0, "check-in interval the server asks agents to use (0: the agent's own)")
	fs.String(keyReadinessRules, "", "readiness rules file (YAML); empty: the built-in rules of configs/readiness.yaml")
	fs.Duration(keyResync, 2*time.Minute, "how often every unit is judged again without any event (what time alone changes)")
	fs.Duration(keyReconcileLease, 6*time.Second, "lease of the replica that reconciles: when it dies, another takes over about this long after (shorter: faster failover, more lease renewals)")
	fs.String(keyName, "", "name of this replica (default: hostname and listen address)")
	fs.String(keyLogLevel, "info", "log level: debug, info, warn, error")
	fs.String(keyLogFormat, "text", "log format: text or json")
	fs.String(keyTLSCert, "", "TLS certificate (PEM, chain) to serve instead of one from parc-server's own CA")
	fs.String(keyTLSKey, "", "private key of --tls-cert (mode 0600)")
	fs.String(keyTLSCA, "", "CA bundle agents pin when --tls-cert is given (default: the top of its chain)")
	fs.StringSlice(keyTLSHosts, nil, "names and IP addresses agents reach the server by, for its own certificate (localhost, 127.0.0.1 and this machine's name are always in)")
	fs.Bool(keyInsecureHTTP, false, "serve plain HTTP, unencrypted: for local development only")
	fs.Duration(keyAgentCredTTL, 365*24*time.Hour, "lifetime of an agent credential; agents rotate it in its last third")
	fs.Float64(keyAgentRate, 2, "requests per second each agent may make (0: unlimited)")
	fs.Int(keyAgentBurst, 30, "requests an agent may make at once above its rate")
	fs.Float64(keyUserRate, 50, "requests per second each user token may make (0: unlimited)")
	fs.Int(keyUserBurst, 200, "requests a user token may make at once above its rate")
	fs.Duration(keyRetentionPeriod, 365*24*time.Hour, "how long audit entries and report receipts are kept")
	fs.Duration(keyRetentionInterval, 24*time.Hour, "how often the retention job deletes what is older than the retention period")
	fs.Bool(keyMetricsOpen, false, "serve /metrics to anyone, without a token (default: a user token whose role reads the fleet, viewer is enough)")
	fs.Duration(keySiteDarkWindow, 5*time.Minute, "a site is dark when most of its agents fall silent within this span of each other")
	fs.Duration(keySiteSilentAfter, 10*time.Minute, "an agent not heard for this long is silent (two check-in intervals)")
	fs.Int(keySiteDarkMinAgents, 3, "fewest agents falling silent together that make a site dark")
	fs.Float64(keySiteDarkRatio, 0.6, "share of a site's agents (heard within the hour before) falling silent together that makes it dark")
	fs.Duration(keySiteLinkInterval, 30*time.Second, "how often the site links are judged")
}

// Load reads the configuration from the file named by --config (if any),
// the environment and the flags in fs, which Flags declared and the caller
// parsed.
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
		Listen:                  v.GetString(keyListen),
		DataDir:                 v.GetString(keyDataDir),
		EtcdEndpoints:           nonEmpty(v.GetStringSlice(keyEtcdEndpoints)),
		EtcdName:                v.GetString(keyEtcdName),
		EtcdClientURL:           v.GetString(keyEtcdClientURL),
		EtcdPeerURL:             v.GetString(keyEtcdPeerURL),
		EtcdInitialCluster:      v.GetString(keyEtcdInitialCluster),
		EtcdInitialClusterState: v.GetString(keyEtcdClusterState),
		EtcdClusterToken:        v.GetString(keyEtcdClusterToken),
		EtcdQuotaBytes:          v.GetInt64(keyEtcdQuota),
		EtcdCompaction:          v.GetDuration(keyEtcdCompaction),
		Prefix:                  v.GetString(keyPrefix),
		LastSeenFlush:           v.GetDuration(keyLastSeenFlush),
		ReceiptsKept:            v.GetInt(keyReceiptsKept),
		ShutdownGrace:           v.GetDuration(keyShutdownGrace),
		AgentCheckinInterval:    v.GetDuration(keyCheckinInterval),
		ReadinessRules:          v.GetString(keyReadinessRules),
		Resync:                  v.GetDuration(keyResync),
		ReconcileLease:          v.GetDuration(keyReconcileLease),
		Name:                    v.GetString(keyName),
		LogLevel:                v.GetString(keyLogLevel),
		LogFormat:               v.GetString(keyLogFormat),
		TLSCert:                 v.GetString(keyTLSCert),
		TLSKey:                  v.GetString(keyTLSKey),
		TLSCA:                   v.GetString(keyTLSCA),
		TLSHosts:                nonEmpty(v.GetStringSlice(keyTLSHosts)),
		InsecureHTTP:            v.GetBool(keyInsecureHTTP),
		AgentCredentialTTL:      v.GetDuration(keyAgentCredTTL),
		AgentRate:               v.GetFloat64(keyAgentRate),
		AgentBurst:              v.GetInt(keyAgentBurst),
		UserRate:                v.GetFloat64(keyUserRate),
		UserBurst:               v.GetInt(keyUserBurst),
		RetentionPeriod:         v.GetDuration(keyRetentionPeriod),
		RetentionInterval:       v.GetDuration(keyRetentionInterval),
		MetricsOpen:             v.GetBool(keyMetricsOpen),
		SiteDarkWindow:          v.GetDuration(keySiteDarkWindow),
		SiteSilentAfter:         v.GetDuration(keySiteSilentAfter),
		SiteDarkMinAgents:       v.GetInt(keySiteDarkMinAgents),
		SiteDarkRatio:           v.GetFloat64(keySiteDarkRatio),
		SiteLinkInterval:        v.GetDuration(keySiteLinkInterval),
	}
	return cfg, cfg.Validate()
}

// nonEmpty drops empty entries: PARC_ETCD_ENDPOINTS="" means none.
func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("%s %q: want host:port", keyListen, c.Listen))
	}
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("%s: required", keyDataDir))
	}
	if len(c.EtcdEndpoints) == 0 {
		if c.EtcdName == "" {
			errs = append(errs, fmt.Errorf("%s: required for the embedded member", keyEtcdName))
		}
		if c.EtcdInitialClusterState != "new" && c.EtcdInitialClusterState != "existing" {
			errs = append(errs, fmt.Errorf("%s %q: want new or existing", keyEtcdClusterState, c.EtcdInitialClusterState))
		}
	}
	if !strings.HasPrefix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("%s %q: must start with /", keyPrefix, c.Prefix))
	}
	if c.LastSeenFlush < 100*time.Millisecond || c.LastSeenFlush > 5*time.Minute {
		errs = append(errs, fmt.Errorf("%s %s: want 100ms to 5m", keyLastSeenFlush, c.LastSeenFlush))
	}
	if c.ReceiptsKept < 1 || c.ReceiptsKept > 10000 {
		errs = append(errs, fmt.Errorf("%s %d: want 1 to 10000", keyReceiptsKept, c.ReceiptsKept))
	}
	if c.ShutdownGrace <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be positive", keyShutdownGrace))
	}
	if c.Resync < time.Second {
		errs = append(errs, fmt.Errorf("%s %s: at least 1s", keyResync, c.Resync))
	}
	// etcd raises a lease under about 1.5 s to that; over a minute, a dead
	// leader leaves statuses stale too long.
	if c.ReconcileLease < 2*time.Second || c.ReconcileLease > time.Minute {
		errs = append(errs, fmt.Errorf("%s %s: want 2s to 1m", keyReconcileLease, c.ReconcileLease))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%s %q: want debug, info, warn or error", keyLogLevel, c.LogLevel))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, fmt.Errorf("%s and %s: give both, or neither to let parc-server make its own", keyTLSCert, keyTLSKey))
	}
	if c.TLSCA != "" && c.TLSCert == "" {
		errs = append(errs, fmt.Errorf("%s: only with %s (parc-server's own CA needs no bundle)", keyTLSCA, keyTLSCert))
	}
	if c.InsecureHTTP && (c.TLSCert != "" || len(c.TLSHosts) > 0) {
		errs = append(errs, fmt.Errorf("%s: contradicts %s/%s", keyInsecureHTTP, keyTLSCert, keyTLSHosts))
	}
	if c.AgentCredentialTTL < minAgentCredentialTTL || c.AgentCredentialTTL > maxAgentCredentialTTL {
		errs = append(errs, fmt.Errorf("%s %s: want %s to %s", keyAgentCredTTL, c.AgentCredentialTTL, minAgentCredentialTTL, maxAgentCredentialTTL))
	}
	for _, r := range []struct {
		key   string
		rate  float64
		burst int
	}{{keyAgentRate, c.AgentRate, c.AgentBurst}, {keyUserRate, c.UserRate, c.UserBurst}} {
		if r.rate < 0 {
			errs = append(errs, fmt.Errorf("%s %v: want 0 (unlimited) or more", r.key, r.rate))
		}
		if r.rate > 0 && r.burst < 1 {
			errs = append(errs, fmt.Errorf("%s-burst %d: want at least 1", r.key, r.burst))
		}
	}
	if c.RetentionPeriod < 24*time.Hour {
		errs = append(errs, fmt.Errorf("%s %s: want at least 24h", keyRetentionPeriod, c.RetentionPeriod))
	}
	if c.RetentionInterval < time.Minute || c.RetentionInterval > c.RetentionPeriod {
		errs = append(errs, fmt.Errorf("%s %s: want 1m to the retention period", keyRetentionInterval, c.RetentionInterval))
	}
	if c.SiteDarkWindow < time.Second || c.SiteSilentAfter < time.Second || c.SiteLinkInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("%s, %s and %s: want at least 1s, 1s and 100ms", keySiteDarkWindow, keySiteSilentAfter, keySiteLinkInterval))
	}
	if c.SiteDarkMinAgents < 2 || c.SiteDarkRatio <= 0 || c.SiteDarkRatio > 1 {
		errs = append(errs, fmt.Errorf("%s %d and %s %v: want at least 2, and a ratio above 0 up to 1", keySiteDarkMinAgents, c.SiteDarkMinAgents, keySiteDarkRatio, c.SiteDarkRatio))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("%s %q: want text or json", keyLogFormat, c.LogFormat))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return nil
}
