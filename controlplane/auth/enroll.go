package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	MaxUses   int       `json:"max_uses,omitempty"`
	Uses      int       `json:"uses"`
	Revoked   bool      `json:"revoked,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
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

// New prepares an enroll token valid for ttl (0: no expiry) without
// storing it, so the caller can name it in an audit entry; Add stores it.
// The credential is shown once and never stored.
func (e *EnrollTokens) New(tok EnrollToken, ttl time.Duration) (Credential, EnrollToken) {
	cred, hash := NewCredential(KindEnroll)
	tok.ID, tok.Hash, tok.CreatedAt, tok.Uses, tok.Revoked = cred.ID, hash, e.now().UTC(), 0, false
	tok.RevokedAt, tok.RevokedBy = time.Time{}, ""
	if ttl > 0 {
		tok.ExpiresAt = tok.CreatedAt.Add(ttl)
	}
	return cred, tok
}

// Add stores a token made by New; extra ops (an audit entry) commit with it.
func (e *EnrollTokens) Add(ctx context.Context, tok EnrollToken, extra ...clientv3.Op) error {
	if err := e.store.Create(ctx, e.store.Key(store.KindEnrollTokens, tok.ID), tok, extra...); err != nil {
		return fmt.Errorf("creating enroll token: %w", err)
	}
	return nil
}

// Create makes and stores an enroll token: New then Add.
func (e *EnrollTokens) Create(ctx context.Context, tok EnrollToken, ttl time.Duration) (Credential, EnrollToken, error) {
	cred, tok := e.New(tok, ttl)
	return cred, tok, e.Add(ctx, tok)
}

// Get reads an enroll token with its mod revision, for Revoke.
func (e *EnrollTokens) Get(ctx context.Context, id string) (EnrollToken, int64, error) {
	var tok EnrollToken
	rev, err := e.store.Get(ctx, e.store.Key(store.KindEnrollTokens, id), &tok)
	return tok, rev, err
}

// List returns every enroll token, by creation time.
func (e *EnrollTokens) List(ctx context.Context) ([]EnrollToken, error) {
	out, err := store.ListValues[EnrollToken](ctx, e.store, e.store.Prefix(store.KindEnrollTokens))
	slices.SortFunc(out, func(a, b EnrollToken) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// Revoke marks tok, read by Get at revision rev, revoked: no agent enrolls
// with it any more; agents already enrolled keep their own credentials.
// The record stays (it says which agents came from it) until retention
// removes it. audit, if not nil, builds an audit entry from the token
// before and after, committed in the same transaction.
func (e *EnrollTokens) Revoke(ctx context.Context, tok EnrollToken, rev int64, by string,
	audit func(before, after EnrollToken) (clientv3.Op, error)) (EnrollToken, error) {
	after := tok
	after.Revoked, after.RevokedAt, after.RevokedBy = true, e.now().UTC(), by
	var extra []clientv3.Op
	if audit != nil {
		op, err := audit(tok, after)
		if err != nil {
			return EnrollToken{}, err
		}
		extra = append(extra, op)
	}
	if err := e.store.PutIfRevision(ctx, e.store.Key(store.KindEnrollTokens, tok.ID), after, rev, extra...); err != nil {
		return EnrollToken{}, fmt.Errorf("revoking enroll token %s: %w", tok.ID, err)
	}
	return after, nil
}

// Done reports whether no agent can enroll with tok any more (revoked,
// expired or used up) and since when, as far as the record says: the
// revocation or expiry time, or zero for a used-up token (its last use is
// not recorded, so retention goes by its creation).
func (tok EnrollToken) Done(now time.Time) (bool, time.Time) {
	switch {
	case tok.Revoked:
		return true, tok.RevokedAt
	case !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt):
		return true, tok.ExpiresAt
	case tok.MaxUses > 0 && tok.Uses >= tok.MaxUses:
		return true, tok.CreatedAt
	}
	return false, time.Time{}
}

// Redeem checks an enroll token credential and returns the token with one
// use counted, plus the transaction compare and write that make the count
// stick. The caller commits them together with the agent it creates, so
// that a token limited to N uses enrolls exactly N agents however many try
// at once.
func (e *EnrollTokens) Redeem(ctx context.Context, c Credential) (EnrollToken, clientv3.Cmp, clientv3.Op, error) {
	tok, _, cmp, op, err := e.RedeemN(ctx, c, 1)
	return tok, cmp, op, err
}

// RedeemN is Redeem for n agents enrolling together: it counts as many of
// the n uses as the token has left (granted, at least 1) and fails with
// ErrTokenUsedUp only when none is left.
func (e *EnrollTokens) RedeemN(ctx context.Context, c Credential, n int) (tok EnrollToken, granted int, cmp clientv3.Cmp, use clientv3.Op, err error) {
	key := e.store.Key(store.KindEnrollTokens, c.ID)
	rev, err := e.store.Get(ctx, key, &tok)
	if err != nil || !SecretMatches(tok.Hash, c.Secret) {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return EnrollToken{}, 0, cmp, use, err
		}
		return EnrollToken{}, 0, cmp, use, ErrUnauthenticated
	}
	switch {
	case tok.Revoked:
		return EnrollToken{}, 0, cmp, use, ErrTokenRevoked
	case !tok.ExpiresAt.IsZero() && !e.now().Before(tok.ExpiresAt):
		return EnrollToken{}, 0, cmp, use, fmt.Errorf("%w on %s", ErrTokenExpired, tok.ExpiresAt.Format(time.RFC3339))
	case tok.MaxUses > 0 && tok.Uses >= tok.MaxUses:
		return EnrollToken{}, 0, cmp, use, fmt.Errorf("%w (%d of %d used)", ErrTokenUsedUp, tok.Uses, tok.MaxUses)
	}
	granted = max(n, 1)
	if tok.MaxUses > 0 {
		granted = min(granted, tok.MaxUses-tok.Uses)
	}
	tok.Uses += granted
	data, err := store.Encode(tok)
	if err != nil {
		return EnrollToken{}, 0, cmp, use, err
	}
	return tok, granted, clientv3.Compare(clientv3.ModRevision(key), "=", rev), clientv3.OpPut(key, string(data)), nil
}

// DeleteDoneBefore deletes the enroll tokens no agent can use any more
// since before cutoff (retention), and returns how many. Agents enrolled
// with them keep their credentials.
func (e *EnrollTokens) DeleteDoneBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	toks, err := e.List(ctx)
	if err != nil {
		return 0, err
	}
	var ops []clientv3.Op
	for _, t := range toks {
		if done, since := t.Done(e.now()); done && since.Before(cutoff) {
			ops = append(ops, clientv3.OpDelete(e.store.Key(store.KindEnrollTokens, t.ID)))
		}
	}
	if err := e.store.Commit(ctx, ops); err != nil {
		return 0, fmt.Errorf("deleting spent enroll tokens: %w", err)
	}
	return int64(len(ops)), nil
}
