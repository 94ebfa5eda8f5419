// Package agents is the server side of the agent API: enrollment, check-in
// (full reports and heartbeats), credential rotation and the registry of
// enrolled agents.
package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/store"
)

// Agent is an enrolled agent as stored: who it said it was when it
// enrolled, where its token placed it, and the hash of its credential.
type Agent struct {
	ID           string    `json:"id"`
	Hash         string    `json:"hash"`
	Site         string    `json:"site,omitempty"`
	Role         string    `json:"role,omitempty"`
	EnrolledAt   time.Time `json:"enrolled_at"`
	EnrollToken  string    `json:"enroll_token,omitempty"`
	Hostname     string    `json:"hostname"`
	Serial       string    `json:"serial,omitempty"`
	HardwareUUID string    `json:"hardware_uuid,omitempty"`
	MACs         []string  `json:"macs,omitempty"`

	// ExpiresAt is when the credential of Hash stops working. Zero for an
	// agent enrolled before credentials expired: it is asked to rotate.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// NextHash is a rotated credential the agent has not confirmed yet;
	// Hash stays valid until it does, so an agent that crashes in the
	// middle of a rotation is never locked out.
	NextHash      string    `json:"next_hash,omitempty"`
	NextExpiresAt time.Time `json:"next_expires_at,omitzero"`
	RotatedAt     time.Time `json:"rotated_at,omitzero"`
	// RotateRequested asks the agent to rotate at its next check-in: an
	// administrator suspects its credential was copied.
	RotateRequested bool `json:"rotate_requested,omitempty"`

	// A revoked agent gets 401 for ever; the unit comes back only by
	// enrolling again with a new enroll token (a new agent id).
	Revoked      bool      `json:"revoked,omitempty"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	RevokedBy    string    `json:"revoked_by,omitempty"`
	RevokeReason string    `json:"revoke_reason,omitempty"`
}

// Registry knows every enrolled agent, from a list+watch cache.
type Registry struct {
	store *store.Store
	cache *store.Cache[Agent]
	now   func() time.Time
	// ttl is the lifetime of a credential; agents rotate in its last third.
	ttl time.Duration
}

// NewRegistry returns the registry issuing credentials valid for
// credentialTTL; run Cache().Run to fill it.
func NewRegistry(s *store.Store, log *slog.Logger, now func() time.Time, credentialTTL time.Duration) *Registry {
	return &Registry{store: s, cache: store.NewCache[Agent](s, store.KindAgents, log), now: now, ttl: credentialTTL}
}

// Cache is the in-memory mirror of enrolled agents.
func (r *Registry) Cache() *store.Cache[Agent] { return r.cache }

// Get returns an enrolled agent.
func (r *Registry) Get(ctx context.Context, id string) (Agent, error) {
	return r.cache.Load(ctx, id)
}

// GetRev reads an agent from etcd with its mod revision, for the changes
// below (compare-on-revision).
func (r *Registry) GetRev(ctx context.Context, id string) (Agent, int64, error) {
	var a Agent
	rev, err := r.store.Get(ctx, r.store.Key(store.KindAgents, id), &a)
	return a, rev, err
}

// NewCredentialExpiry is the expiry of a credential issued now.
func (r *Registry) NewCredentialExpiry() time.Time { return r.now().UTC().Add(r.ttl) }

// RotationDue reports whether the agent should rotate its credential now:
// in the last third of its life, when it has no expiry yet, or when an
// administrator asked.
func (r *Registry) RotationDue(a Agent) bool {
	return a.RotateRequested || a.ExpiresAt.IsZero() || !r.now().Before(a.ExpiresAt.Add(-r.ttl/3))
}

// AuthenticateAgent implements auth.AgentVerifier. Only the current
// credential authenticates; a rotated one first has to be confirmed
// (Confirm). Why a credential is refused is said only to a caller holding
// its secret.
func (r *Registry) AuthenticateAgent(ctx context.Context, c auth.Credential) (auth.Principal, error) {
	a, err := r.cache.Load(ctx, c.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		return auth.Principal{}, err
	}
	if !auth.SecretMatches(a.Hash, c.Secret) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if err := r.usable(a); err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Kind: auth.KindAgent, ID: a.ID, Name: a.Hostname, Site: a.Site}, nil
}

// usable says why a's current credential no longer works, nil if it does.
func (r *Registry) usable(a Agent) error {
	switch {
	case a.Revoked:
		return fmt.Errorf("%w: this agent was revoked on %s; enroll again with a new enroll token", auth.ErrUnauthenticated, a.RevokedAt.Format(time.RFC3339))
	case !a.ExpiresAt.IsZero() && !r.now().Before(a.ExpiresAt):
		return fmt.Errorf("%w: this agent's credential expired on %s; enroll again with a new enroll token", auth.ErrUnauthenticated, a.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// changeAttempts bounds retries of a read-modify-write of an agent when a
// check-in on another replica changes it at the same moment.
const changeAttempts = 5

// AuditFunc builds the audit entry of a change from the agent before and
// after it; the entry commits in the change's transaction.
type AuditFunc func(before, after Agent) (clientv3.Op, error)

// change applies fn to agent id's record and writes it back only if nobody
// changed it meanwhile, retrying a few times. fn returns an error to stop.
// audit, if not nil, adds an audit entry to the same transaction.
func (r *Registry) change(ctx context.Context, id string, fn func(*Agent) error, audit AuditFunc) (Agent, error) {
	for range changeAttempts {
		before, rev, err := r.GetRev(ctx, id)
		if err != nil {
			return Agent{}, err
		}
		a := before
		a.MACs = slices.Clone(before.MACs)
		if err := fn(&a); err != nil {
			return Agent{}, err
		}
		var extra []clientv3.Op
		if audit != nil {
			op, err := audit(before, a)
			if err != nil {
				return Agent{}, err
			}
			extra = append(extra, op)
		}
		err = r.store.PutIfRevision(ctx, r.store.Key(store.KindAgents, id), a, rev, extra...)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Agent{}, err
		}
		r.cache.Set(id, a)
		return a, nil
	}
	return Agent{}, fmt.Errorf("changing agent %s: %w", id, store.ErrConflict)
}

// Rotate gives agent id a new credential, valid beside the current one
// until the agent confirms it. A second rotation before a confirmation
// replaces the unconfirmed credential.
func (r *Registry) Rotate(ctx context.Context, id string) (auth.Credential, time.Time, error) {
	secret := auth.NewSecret()
	a, err := r.change(ctx, id, func(a *Agent) error {
		if err := r.usable(*a); err != nil {
			return err
		}
		a.NextHash, a.NextExpiresAt = auth.HashSecret(secret), r.NewCredentialExpiry()
		return nil
	}, nil)
	if err != nil {
		return auth.Credential{}, time.Time{}, fmt.Errorf("rotating the credential of agent %s: %w", id, err)
	}
	return auth.Credential{Kind: auth.KindAgent, ID: id, Secret: secret}, a.NextExpiresAt, nil
}

// Confirm makes the rotated credential c the agent's only one, and returns
// its expiry. Confirming the current credential again succeeds (the answer
// to an earlier confirmation was lost); any other credential is refused.
func (r *Registry) Confirm(ctx context.Context, c auth.Credential) (time.Time, error) {
	var confirmedBefore time.Time
	a, err := r.change(ctx, c.ID, func(a *Agent) error {
		current := auth.SecretMatches(a.Hash, c.Secret)
		next := a.NextHash != "" && auth.SecretMatches(a.NextHash, c.Secret)
		if !current && !next {
			return auth.ErrUnauthenticated
		}
		if err := r.usable(*a); err != nil {
			return err
		}
		if current {
			confirmedBefore = a.ExpiresAt
			return errUnchanged
		}
		a.Hash, a.ExpiresAt, a.NextHash, a.NextExpiresAt = a.NextHash, a.NextExpiresAt, "", time.Time{}
		a.RotatedAt, a.RotateRequested = r.now().UTC(), false
		return nil
	}, nil)
	switch {
	case errors.Is(err, errUnchanged):
		return confirmedBefore, nil
	case errors.Is(err, store.ErrNotFound):
		return time.Time{}, auth.ErrUnauthenticated
	case err != nil:
		return time.Time{}, err
	}
	return a.ExpiresAt, nil
}

// errUnchanged stops a change that has nothing to write.
var errUnchanged = errors.New("unchanged")

// Revoke revokes agent id for good: its credentials, current and rotated,
// stop working at once on this replica and within a watch event on the
// others. Revoking a revoked agent changes nothing and records nothing.
func (r *Registry) Revoke(ctx context.Context, id, by, reason string, audit AuditFunc) (Agent, error) {
	a, err := r.change(ctx, id, func(a *Agent) error {
		if a.Revoked {
			return errUnchanged
		}
		a.Revoked, a.RevokedAt, a.RevokedBy, a.RevokeReason = true, r.now().UTC(), by, reason
		a.NextHash, a.NextExpiresAt, a.RotateRequested = "", time.Time{}, false
		return nil
	}, audit)
	if errors.Is(err, errUnchanged) {
		a, _, err = r.GetRev(ctx, id)
	}
	return a, err
}

// RequestRotation asks agent id to rotate its credential at its next
// check-in; the current one stops working once the agent confirms the new
// one.
func (r *Registry) RequestRotation(ctx context.Context, id string, audit AuditFunc) (Agent, error) {
	return r.change(ctx, id, func(a *Agent) error {
		if a.Revoked {
			return fmt.Errorf("agent %s is revoked: %w", id, store.ErrConflict)
		}
		a.RotateRequested = true
		return nil
	}, audit)
}

// CredentialView is what the admin API and the audit log show of an
// agent's credential: its state, never its hashes.
func CredentialView(a Agent) adminapi.AgentCredential {
	v := adminapi.AgentCredential{ID: a.ID, Hostname: a.Hostname, Site: a.Site, EnrolledAt: a.EnrolledAt,
		EnrollToken: a.EnrollToken, RotationPending: a.NextHash != "", RotateRequested: a.RotateRequested,
		Revoked: a.Revoked, RevokedBy: a.RevokedBy, RevokeReason: a.RevokeReason}
	v.ExpiresAt, v.RotatedAt, v.RevokedAt = timePtr(a.ExpiresAt), timePtr(a.RotatedAt), timePtr(a.RevokedAt)
	return v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
