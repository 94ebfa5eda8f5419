// Package etcdnode gives parc-server its etcd: it starts an embedded member
// in the data dir (alone, or as one member of an embedded cluster), or
// connects to an external cluster and starts nothing. Either way the rest of
// the server sees one *clientv3.Client.
package etcdnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config says which etcd to use.
type Config struct {
	// Endpoints of an external cluster. When set, no member is started and
	// every embedded field below is ignored.
	Endpoints []string

	// DataDir holds the embedded member's data (DataDir/etcd) and log.
	DataDir string
	// Name of this member; unique in a cluster.
	Name string
	// ClientURL and PeerURL are where this member listens, e.g.
	// http://127.0.0.1:2379 and http://127.0.0.1:2380.
	ClientURL string
	PeerURL   string
	// InitialCluster lists every member as name=peerURL, comma separated,
	// as etcd's --initial-cluster. Empty means a single-node cluster.
	InitialCluster string
	// ClusterState is "new" to bootstrap, "existing" to join a running cluster.
	ClusterState string
	// ClusterToken keeps two clusters bootstrapped side by side apart.
	ClusterToken string
	// QuotaBytes is the backend size limit; 0 means etcd's 2 GiB default.
	QuotaBytes int64
	// CompactionRetention keeps this much revision history (etcd periodic
	// auto-compaction), so that superseded values of frequently rewritten
	// keys (last seen, reports) do not fill the quota.
	CompactionRetention time.Duration
}

// Node is a running etcd connection, and the embedded member if any.
type Node struct {
	Client *clientv3.Client
	member *embed.Etcd
	log    *slog.Logger
}

// How long an embedded member may take to become ready (replaying a large
// WAL after a crash takes a while) before the server gives up.
const memberStartTimeout = 2 * time.Minute

// Start starts or connects to etcd. Close releases it.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	if len(cfg.Endpoints) > 0 {
		cli, err := newClient(cfg.Endpoints)
		if err != nil {
			return nil, fmt.Errorf("connecting to etcd %s: %w", strings.Join(cfg.Endpoints, ","), err)
		}
		log.Info("using external etcd", "endpoints", cfg.Endpoints)
		return &Node{Client: cli, log: log}, nil
	}

	ecfg, err := embedConfig(cfg)
	if err != nil {
		return nil, err
	}
	member, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", ecfg.Dir, err)
	}
	select {
	case <-member.Server.ReadyNotify():
	case err := <-member.Err():
		member.Close()
		return nil, fmt.Errorf("embedded etcd failed while starting: %w", err)
	case <-time.After(memberStartTimeout):
		member.Server.Stop()
		member.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after %s (a cluster member waits for a quorum of peers)", ecfg.Dir, memberStartTimeout)
	case <-ctx.Done():
		member.Close()
		return nil, ctx.Err()
	}
	cli, err := newClient([]string{cfg.ClientURL})
	if err != nil {
		member.Close()
		return nil, fmt.Errorf("connecting to embedded etcd: %w", err)
	}
	log.Info("embedded etcd started", "name", ecfg.Name, "client_url", cfg.ClientURL,
		"data_dir", ecfg.Dir, "log", filepath.Join(cfg.DataDir, "etcd.log"))
	return &Node{Client: cli, member: member, log: log}, nil
}

// Err reports a fatal error of the embedded member; nil channel when external.
func (n *Node) Err() <-chan error {
	if n.member == nil {
		return nil
	}
	return n.member.Err()
}

// MemberID is the embedded member's etcd ID; 0 when etcd is external.
func (n *Node) MemberID() uint64 {
	if n.member == nil {
		return 0
	}
	return uint64(n.member.Server.MemberID())
}

// Embedded reports whether this process runs an etcd member.
func (n *Node) Embedded() bool { return n.member != nil }

// Close closes the client, then stops the member cleanly (it flushes and
// closes its WAL and backend).
func (n *Node) Close() error {
	err := n.Client.Close()
	if n.member != nil {
		n.member.Close()
		n.log.Info("embedded etcd stopped")
	}
	return err
}

func newClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		// Keep-alives let a client notice a dead member and move to another.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		Logger:               zap.NewNop(),
		// Reports are at most agentapi.MaxBodyBytes; batches of last-seen
		// times stay far below etcd's 1.5 MiB request limit.
		MaxCallSendMsgSize: 2 << 20,
	})
}

// EmbedConfig builds the etcd member configuration parc-server runs with.
// It is exported for the scale benchmark, which measures raw etcd configured
// exactly as the server configures it.
func EmbedConfig(cfg Config) (*embed.Config, error) { return embedConfig(cfg) }

func embedConfig(cfg Config) (*embed.Config, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("etcd: a data dir is required for the embedded member")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	e := embed.NewConfig()
	e.Name = cfg.Name
	if e.Name == "" {
		e.Name = "default"
	}
	e.Dir = filepath.Join(cfg.DataDir, "etcd")
	clientURL, err := parseURL("client URL", cfg.ClientURL)
	if err != nil {
		return nil, err
	}
	peerURL, err := parseURL("peer URL", cfg.PeerURL)
	if err != nil {
		return nil, err
	}
	e.ListenClientUrls = []url.URL{*clientURL}
	e.AdvertiseClientUrls = []url.URL{*clientURL}
	e.ListenPeerUrls = []url.URL{*peerURL}
	e.AdvertisePeerUrls = []url.URL{*peerURL}
	e.InitialCluster = cfg.InitialCluster
	if e.InitialCluster == "" {
		e.InitialCluster = e.Name + "=" + peerURL.String()
	}
	e.ClusterState = embed.ClusterStateFlagNew
	if cfg.ClusterState != "" {
		e.ClusterState = cfg.ClusterState
	}
	if cfg.ClusterToken != "" {
		e.InitialClusterToken = cfg.ClusterToken
	}
	if cfg.QuotaBytes > 0 {
		e.QuotaBackendBytes = cfg.QuotaBytes
	}
	if cfg.CompactionRetention > 0 {
		e.AutoCompactionMode = "periodic"
		e.AutoCompactionRetention = cfg.CompactionRetention.String()
	}
	// etcd logs with zap; keep its chatter in a file of its own and let
	// parc's slog say what matters (started, failed, stopped).
	e.Logger = "zap"
	e.LogLevel = "warn"
	e.LogOutputs = []string{filepath.Join(cfg.DataDir, "etcd.log")}
	return e, nil
}

func parseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("etcd %s %q: want http://host:port", what, raw)
	}
	return u, nil
}
