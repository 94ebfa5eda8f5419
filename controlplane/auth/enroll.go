package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/store"
)

// EnrollToken lets agents enroll, optionally scoped to a site and a role
// (the role the units enrolled with it are judged by until declared).
type EnrollToken struct {
	ID        string    `json:"id"`
	Hash      string    `json:"hash"`
	Site      string    `json:"site,omitempty"`
	Role      string    `json:"role,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// ExpiresAt zero means it does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// MaxUses zero means unlimited.
	MaxUses int  `json:"max_uses,omitempty"`
	Uses    int  `json:"uses"`
	Revoked bool `json:"revoked,omitempty"`
}

// Errors of enrollment, each a reason a technician can act on.
var (
	ErrTokenExpired = errors.New("enroll token expired")
	ErrTokenUsedUp  = errors.New("enroll token has no uses left")
	ErrTokenRevoked = errors.New("enroll token revoked")
)

// EnrollTokens keeps enroll tokens in etcd.
type EnrollTokens struct {
	store *store.Store
	now   func() time.Time
}

// NewEnrollTokens returns the enroll token registry.
func NewEnrollTokens(s *store.Store, now func() time.Time) *EnrollTokens {
	return &EnrollTokens{store: s, now: now}
}

// Create makes an enroll token valid for ttl (0: no expiry); the credential
// is shown once.
func (e *EnrollTokens) Create(ctx context.Context, tok EnrollToken, ttl time.Duration) (Credential, EnrollToken, error) {
	cred, hash := NewCredential(KindEnroll)
	tok.ID, tok.Hash, tok.CreatedAt, tok.Uses = cred.ID, hash, e.now().UTC(), 0
	if ttl > 0 {
		tok.ExpiresAt = tok.CreatedAt.Add(ttl)
	}
	if err := e.store.Create(ctx, e.store.Key(store.KindEnrollTokens, tok.ID), tok); err != nil {
		return Credential{}, EnrollToken{}, fmt.Errorf("creating enroll token: %w", err)
	}
	return cred, tok, nil
}

// Redeem checks an enroll token credential and returns the token with one
// use counted, plus the transaction compare and write that make the count
// stick. The caller commits them together with the agent it creates, so
// that a token limited to N uses enrolls exactly N agents however many try
// at once.
func (e *EnrollTokens) Redeem(ctx context.Context, c Credential) (EnrollToken, clientv3.Cmp, clientv3.Op, error) {
	var tok EnrollToken
	key := e.store.Key(store.KindEnrollTokens, c.ID)
	rev, err := e.store.Get(ctx, key, &tok)
	if err != nil || !SecretMatches(tok.Hash, c.Secret) {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return EnrollToken{}, clientv3.Cmp{}, clientv3.Op{}, err
		}
		return EnrollToken{}, clientv3.Cmp{}, clientv3.Op{}, ErrUnauthenticated
	}
	switch {
	case tok.Revoked:
		return EnrollToken{}, clientv3.Cmp{}, clientv3.Op{}, ErrTokenRevoked
	case !tok.ExpiresAt.IsZero() && !e.now().Before(tok.ExpiresAt):
		return EnrollToken{}, clientv3.Cmp{}, clientv3.Op{}, fmt.Errorf("%w on %s", ErrTokenExpired, tok.ExpiresAt.Format(time.RFC3339))
	case tok.MaxUses > 0 && tok.Uses >= tok.MaxUses:
		return EnrollToken{}, clientv3.Cmp{}, clientv3.Op{}, fmt.Errorf("%w (%d of %d used)", ErrTokenUsedUp, tok.Uses, tok.MaxUses)
	}
	tok.Uses++
	data, err := store.Encode(tok)
	if err != nil {
		return EnrollToken{}, clientv3.Cmp{}, clientv3.Op{}, err
	}
	return tok, clientv3.Compare(clientv3.ModRevision(key), "=", rev), clientv3.OpPut(key, string(data)), nil
}
