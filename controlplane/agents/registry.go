// Package agents is the server side of the agent API: enrollment, check-in
// (full reports and heartbeats) and the registry of enrolled agents.
package agents

import (
	"context"
	"errors"
	"log/slog"
	"time"

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
	Revoked      bool      `json:"revoked,omitempty"`
}

// Registry knows every enrolled agent, from a list+watch cache.
type Registry struct {
	store *store.Store
	cache *store.Cache[Agent]
}

// NewRegistry returns the registry; run Cache().Run to fill it.
func NewRegistry(s *store.Store, log *slog.Logger) *Registry {
	return &Registry{store: s, cache: store.NewCache[Agent](s, store.KindAgents, log)}
}

// Cache is the in-memory mirror of enrolled agents.
func (r *Registry) Cache() *store.Cache[Agent] { return r.cache }

// Get returns an enrolled agent.
func (r *Registry) Get(ctx context.Context, id string) (Agent, error) {
	return r.cache.Load(ctx, id)
}

// AuthenticateAgent implements auth.AgentVerifier.
func (r *Registry) AuthenticateAgent(ctx context.Context, c auth.Credential) (auth.Principal, error) {
	a, err := r.cache.Load(ctx, c.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		return auth.Principal{}, err
	}
	if a.Revoked || !auth.SecretMatches(a.Hash, c.Secret) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return auth.Principal{Kind: auth.KindAgent, ID: a.ID, Name: a.Hostname, Site: a.Site}, nil
}
