// Package cluster says who serves and who leads in a parc cluster (the etcd
// members, the etcd leader, the replica that reconciles) and adds and
// removes the etcd members of an embedded cluster.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
)

// Cluster reads and changes the membership of the etcd cluster parc runs on.
type Cluster struct {
	Client *clientv3.Client
	// Embedded is true when parc-server runs the etcd members itself; the
	// members of an external cluster are its operators' to change.
	Embedded bool
	// Replica names the replica this runs in; MemberID is its embedded
	// etcd member's (0: external etcd).
	Replica  string
	MemberID uint64
	// Root is the store's root (store.Store.Root), where replicas register.
	Root string
	// ReconcilerLeader names the replica that reconciles now.
	ReconcilerLeader func(context.Context) (string, error)
	Log              *slog.Logger
}

// statusTimeout bounds the status request to each member: a dead member
// must cost the technician a second, not the client's dial timeout.
const statusTimeout = time.Second

// Sentinel errors the API turns into answers.
var (
	ErrExternal = errors.New("etcd is external (--etcd-endpoints): change its members with etcdctl, as its operators do")
	ErrNotFound = errors.New("no such member")
	ErrInvalid  = errors.New("invalid member")
	// ErrUnhealthy: etcd changes its membership only when the quorum
	// would survive it and every member has been connected for a few
	// seconds (it refuses right after a start or a member's loss).
	ErrUnhealthy = errors.New("etcd refuses to change its members now: one is down, or they (re)connected less than 5 s ago; check GET /api/v1/cluster and retry in a few seconds")
)

// Status lists the members with their health and who leads. It answers
// without a quorum (a serializable member list, a status per member), which
// is when a technician needs it most.
func (c *Cluster) Status(ctx context.Context) (adminapi.ClusterStatus, error) {
	st := adminapi.ClusterStatus{Replica: c.Replica, EmbeddedEtcd: c.Embedded, Members: []adminapi.EtcdMember{}}
	list, err := c.Client.MemberList(ctx, clientv3.WithSerializable())
	if err != nil {
		return st, fmt.Errorf("listing etcd members: %w", err)
	}
	statuses := make([]*clientv3.StatusResponse, len(list.Members))
	errs := make([]error, len(list.Members))
	var wg sync.WaitGroup
	for i, m := range list.Members {
		if len(m.ClientURLs) == 0 {
			continue
		}
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(ctx, statusTimeout)
			defer cancel()
			statuses[i], errs[i] = c.Client.Status(sctx, m.ClientURLs[0])
		})
	}
	wg.Wait()
	// Serializable: the list must answer without a quorum too.
	replicas, err := c.replicas(ctx)
	if err != nil {
		c.Log.Debug("cluster status without the replicas", "err", err)
	}
	judge(&st, list.Members, statuses, errs, replicas)
	slices.SortFunc(st.Members, func(a, b adminapi.EtcdMember) int { return strings.Compare(a.Name, b.Name) })
	if c.ReconcilerLeader != nil {
		// Without a quorum there is no telling; "" says so.
		if st.ReconcilerLeader, err = c.ReconcilerLeader(ctx); err != nil {
			c.Log.Debug("cluster status without the reconciler leader", "err", err)
		}
	}
	return st, nil
}

// judge fills st's members, their health and the etcd leader from what
// each member's client URL answered (statuses[i], or errs[i]) and from the
// replicas registered. A status counts only from the member it was asked
// of: a client URL on 127.0.0.1 reaches the asking replica's own member.
// A member that cannot be asked from here (another member answers at its
// URL) is healthy if the replica running it renews its registration, which
// goes through that member; one that does not answer at all is down.
func judge(st *adminapi.ClusterStatus, members []*etcdserverpb.Member, statuses []*clientv3.StatusResponse, errs []error, replicas []adminapi.Replica) {
	st.Members = make([]adminapi.EtcdMember, len(members))
	st.Replicas = replicas
	alive := map[string]bool{}
	for _, r := range replicas {
		alive[r.EtcdMemberID] = true
	}
	var leader uint64
	for i, m := range members {
		em := member(m)
		resp := statuses[i]
		switch {
		case len(m.ClientURLs) == 0:
			em.Error = "added, not started yet"
		case errs[i] != nil:
			em.Error = errs[i].Error()
		case resp.Header.GetMemberId() != m.ID && alive[em.ID]:
			// Not reachable from here, but its replica renews its lease
			// through it: alive and in the quorum.
			em.Healthy = true
		case resp.Header.GetMemberId() != m.ID:
			em.Error = fmt.Sprintf("its client URL %s answers as member %x from here, and no replica renews its lease through it", m.ClientURLs[0], resp.Header.GetMemberId())
		default:
			em.Healthy = len(resp.Errors) == 0
			em.Error = strings.Join(resp.Errors, "; ")
			em.DBSize, em.RaftIndex = resp.DbSize, resp.RaftIndex
		}
		if resp != nil && resp.Leader != 0 {
			leader = resp.Leader
		}
		st.Members[i] = em
	}
	for i, m := range members {
		if leader != 0 && m.ID == leader {
			st.Members[i].Leader = true
			st.EtcdLeader = m.Name
		}
	}
}

func member(m *etcdserverpb.Member) adminapi.EtcdMember {
	return adminapi.EtcdMember{ID: strconv.FormatUint(m.ID, 16), Name: m.Name,
		PeerURLs: nonNil(m.PeerURLs), ClientURLs: nonNil(m.ClientURLs), Started: m.Name != "", Learner: m.IsLearner}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validName is what etcd and the --etcd-name flag take without surprise.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Add adds a member, to be started next with the initial cluster the
// answer gives and the state "existing". Add one member at a time and start
// it before adding another: a member added but not started counts in the
// quorum.
func (c *Cluster) Add(ctx context.Context, req adminapi.MemberAddRequest) (adminapi.MemberAdded, error) {
	var out adminapi.MemberAdded
	if !c.Embedded {
		return out, ErrExternal
	}
	if !validName.MatchString(req.Name) {
		return out, fmt.Errorf("%w: name %.64q: want letters, digits, '.', '_' or '-', at most 63", ErrInvalid, req.Name)
	}
	u, err := url.Parse(req.PeerURL)
	if err != nil || u.Host == "" || u.Port() == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return out, fmt.Errorf("%w: peer URL %.128q: want http://host:port", ErrInvalid, req.PeerURL)
	}
	list, err := c.Client.MemberList(ctx)
	if err != nil {
		return out, fmt.Errorf("listing etcd members: %w", err)
	}
	for _, m := range list.Members {
		if m.Name == req.Name {
			return out, fmt.Errorf("%w: a member is already named %s", ErrInvalid, req.Name)
		}
		if slices.Contains(m.PeerURLs, req.PeerURL) {
			return out, fmt.Errorf("%w: member %q already has peer URL %s", ErrInvalid, m.Name, req.PeerURL)
		}
		if m.Name == "" {
			return out, fmt.Errorf("%w: member %x was added but never started; start it, or remove it, before adding another", ErrInvalid, m.ID)
		}
	}
	resp, err := c.Client.MemberAdd(ctx, []string{req.PeerURL})
	if errors.Is(err, rpctypes.ErrUnhealthy) {
		return out, ErrUnhealthy
	}
	if err != nil {
		return out, fmt.Errorf("adding etcd member %s at %s: %w", req.Name, req.PeerURL, err)
	}
	var parts []string
	for _, m := range resp.Members {
		name := m.Name
		if m.ID == resp.Member.ID {
			name = req.Name
		}
		for _, p := range m.PeerURLs {
			parts = append(parts, name+"="+p)
		}
	}
	slices.Sort(parts)
	out.Member = member(resp.Member)
	out.Member.Name = req.Name
	out.InitialCluster = strings.Join(parts, ",")
	out.InitialClusterState = "existing"
	c.Log.Info("etcd member added; start its parc-server now", "name", req.Name, "peer_url", req.PeerURL, "initial_cluster", out.InitialCluster)
	return out, nil
}

// Remove removes the member named name (or whose hex ID is name, for one
// added but never started). The member's parc-server stops serving: its
// etcd member shuts down once removed.
func (c *Cluster) Remove(ctx context.Context, name string) (adminapi.EtcdMember, error) {
	if !c.Embedded {
		return adminapi.EtcdMember{}, ErrExternal
	}
	list, err := c.Client.MemberList(ctx)
	if err != nil {
		return adminapi.EtcdMember{}, fmt.Errorf("listing etcd members: %w", err)
	}
	for _, m := range list.Members {
		if m.Name != name && strconv.FormatUint(m.ID, 16) != name {
			continue
		}
		if len(list.Members) == 1 {
			return adminapi.EtcdMember{}, fmt.Errorf("%w: %s is the only member", ErrInvalid, name)
		}
		_, err := c.Client.MemberRemove(ctx, m.ID)
		if errors.Is(err, rpctypes.ErrUnhealthy) {
			return adminapi.EtcdMember{}, ErrUnhealthy
		}
		if err != nil {
			return adminapi.EtcdMember{}, fmt.Errorf("removing etcd member %s: %w", name, err)
		}
		c.Log.Info("etcd member removed", "name", m.Name, "id", strconv.FormatUint(m.ID, 16))
		return member(m), nil
	}
	return adminapi.EtcdMember{}, fmt.Errorf("%w: %s", ErrNotFound, name)
}
