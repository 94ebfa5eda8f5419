package cluster

import (
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func status(member, leader uint64, errs ...string) *clientv3.StatusResponse {
	return &clientv3.StatusResponse{Header: &etcdserverpb.ResponseHeader{MemberId: member}, Leader: leader, DbSize: 1 << 20, Errors: errs}
}

// TestJudge: a member is healthy when it answers as itself, or, when it
// cannot be asked from here, when its replica is registered; never on the
// word of another member answering at its URL.
func TestJudge(t *testing.T) {
	members := []*etcdserverpb.Member{
		{ID: 0xa, Name: "m1", PeerURLs: []string{"http://10.0.0.11:2380"}, ClientURLs: []string{"http://127.0.0.1:2379"}},
		{ID: 0xb, Name: "m2", PeerURLs: []string{"http://10.0.0.12:2380"}, ClientURLs: []string{"http://127.0.0.1:2379"}},
		{ID: 0xc, Name: "m3", PeerURLs: []string{"http://10.0.0.13:2380"}, ClientURLs: []string{"http://127.0.0.1:2379"}},
		{ID: 0xd, PeerURLs: []string{"http://10.0.0.14:2380"}},
	}
	refused := errors.New("connection refused")
	for _, tc := range []struct {
		name     string
		statuses []*clientv3.StatusResponse
		errs     []error
		replicas []adminapi.Replica
		healthy  []bool
		leader   string
	}{
		{
			name:     "every member reachable as itself",
			statuses: []*clientv3.StatusResponse{status(0xa, 0xb), status(0xb, 0xb), status(0xc, 0xb), nil},
			errs:     make([]error, 4),
			healthy:  []bool{true, true, true, false},
			leader:   "m2",
		},
		{
			name:     "client URLs on 127.0.0.1: the local member answers for all, replicas registered for m1 and m3",
			statuses: []*clientv3.StatusResponse{status(0xa, 0xc), status(0xa, 0xc), status(0xa, 0xc), nil},
			errs:     make([]error, 4),
			replicas: []adminapi.Replica{{Name: "m1", EtcdMemberID: "a"}, {Name: "m3", EtcdMemberID: "c"}},
			healthy:  []bool{true, false, true, false},
			leader:   "m3",
		},
		{
			name:     "a member refusing connections is down, even while its replica's lease runs out",
			statuses: []*clientv3.StatusResponse{status(0xa, 0), nil, status(0xc, 0), nil},
			errs:     []error{nil, refused, nil, nil},
			replicas: []adminapi.Replica{{Name: "m2", EtcdMemberID: "b"}},
			healthy:  []bool{true, false, true, false},
		},
		{
			name:     "a member answering with an alarm stays unhealthy though its replica runs",
			statuses: []*clientv3.StatusResponse{status(0xa, 0xa, "NOSPACE"), status(0xb, 0xa), status(0xc, 0xa), nil},
			errs:     make([]error, 4),
			replicas: []adminapi.Replica{{Name: "m1", EtcdMemberID: "a"}},
			healthy:  []bool{false, true, true, false},
			leader:   "m1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st adminapi.ClusterStatus
			judge(&st, members, tc.statuses, tc.errs, tc.replicas)
			for i, m := range st.Members {
				if m.Healthy != tc.healthy[i] {
					t.Errorf("%s (%s) healthy %v, want %v; error %q", m.Name, m.ID, m.Healthy, tc.healthy[i], m.Error)
				}
				if !m.Healthy && m.Error == "" {
					t.Errorf("%s unhealthy without saying why", m.ID)
				}
			}
			if st.EtcdLeader != tc.leader {
				t.Errorf("etcd leader %q, want %q", st.EtcdLeader, tc.leader)
			}
			if st.Members[3].Started || st.Members[3].Error != "added, not started yet" {
				t.Errorf("member added but not started: %+v", st.Members[3])
			}
		})
	}
}
