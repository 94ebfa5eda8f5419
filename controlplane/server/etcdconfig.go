package server

import (
	"github.com/parc-project/parc/controlplane/config"
	"github.com/parc-project/parc/controlplane/etcdnode"
)

// EtcdConfig is the etcd parc-server starts or connects to with cfg. The
// scale benchmark starts raw etcd with it too, to compare like with like.
func EtcdConfig(cfg config.Config) etcdnode.Config {
	return etcdnode.Config{
		Endpoints: cfg.EtcdEndpoints, DataDir: cfg.DataDir, Name: cfg.EtcdName,
		ClientURL: cfg.EtcdClientURL, PeerURL: cfg.EtcdPeerURL,
		InitialCluster: cfg.EtcdInitialCluster, ClusterState: cfg.EtcdInitialClusterState,
		ClusterToken: cfg.EtcdClusterToken, QuotaBytes: cfg.EtcdQuotaBytes,
		CompactionRetention: cfg.EtcdCompaction,
	}
}
