package adminapi

import "time"

// Paths of the cluster part of the admin API.
const (
	PathCluster        = "/api/v1/cluster"
	PathClusterMembers = "/api/v1/cluster/members"
)

// ClusterStatus says who serves and who leads: the replica that answered,
// the etcd members with their health, the etcd leader and the replica that
// reconciles.
type ClusterStatus struct {
	// Replica is the name of the parc-server replica that answered.
	Replica string `json:"replica"`
	// EmbeddedEtcd is true when parc-server runs the etcd members itself
	// (false: an external cluster, --etcd-endpoints).
	EmbeddedEtcd bool `json:"embedded_etcd"`
	// EtcdLeader is the name of the etcd member that leads raft, "" when
	// the cluster has no leader (no quorum).
	EtcdLeader string `json:"etcd_leader"`
	// ReconcilerLeader is the name of the replica that reconciles, ""
	// between terms.
	ReconcilerLeader string       `json:"reconciler_leader"`
	Members          []EtcdMember `json:"members"`
	// Replicas are the parc-server replicas running now.
	Replicas []Replica `json:"replicas"`
}

// Replica is a running parc-server replica.
type Replica struct {
	Name string `json:"name"`
	// EtcdMemberID is the hex ID of the etcd member it runs, "" when etcd
	// is external.
	EtcdMemberID string    `json:"etcd_member_id,omitempty"`
	Since        time.Time `json:"since"`
}

// EtcdMember is one etcd member as the cluster lists it, with what it said
// when asked for its status.
type EtcdMember struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peer_urls"`
	ClientURLs []string `json:"client_urls"`
	// Started is false for a member added but not yet started.
	Started bool `json:"started"`
	Learner bool `json:"learner,omitempty"`
	Leader  bool `json:"leader"`
	// Healthy is true when the member answered a status request in time,
	// or, when its client URL cannot be reached from the replica asked
	// (127.0.0.1), when the replica running it renews its lease through it.
	Healthy bool `json:"healthy"`
	// Error says why it did not, for the technician.
	Error     string `json:"error,omitempty"`
	DBSize    int64  `json:"db_size_bytes,omitempty"`
	RaftIndex uint64 `json:"raft_index,omitempty"`
}

// MemberAddRequest adds an etcd member before its parc-server starts.
type MemberAddRequest struct {
	// Name of the new member: its --etcd-name.
	Name string `json:"name"`
	// PeerURL is its --etcd-peer-url, reachable from the other members.
	PeerURL string `json:"peer_url"`
}

// MemberAdded tells how to start the new member's parc-server.
type MemberAdded struct {
	Member EtcdMember `json:"member"`
	// InitialCluster is the --etcd-initial-cluster the new member must
	// start with, and InitialClusterState its --etcd-initial-cluster-state
	// ("existing").
	InitialCluster      string `json:"initial_cluster"`
	InitialClusterState string `json:"initial_cluster_state"`
}
