package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/store"
)

// UserToken is a person's token as stored: never the secret, only its hash.
type UserToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// ExpiresAt zero means valid until revoked.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// MaxTokenNameLen bounds the name of a user token (who holds it).
const MaxTokenNameLen = 128

// Errors of user token administration.
var (
	// ErrLastAdmin refuses to revoke the last valid admin token: nobody
	// could create tokens any more.
	ErrLastAdmin = errors.New("this is the last valid admin token; create another admin token before revoking it")
	ErrTokenName = fmt.Errorf("name: want 1 to %d characters", MaxTokenNameLen)
)

// Tokens keeps user tokens in etcd and a cache of them in memory.
type Tokens struct {
	store *store.Store
	cache *store.Cache[UserToken]
	now   func() time.Time
}

// NewTokens returns the user token registry; run Cache().Run to fill it.
func NewTokens(s *store.Store, log *slog.Logger, now func() time.Time) *Tokens {
	return &Tokens{store: s, cache: store.NewCache[UserToken](s, store.KindTokens, log), now: now}
}

// Cache is the in-memory mirror the registry authenticates from.
func (t *Tokens) Cache() *store.Cache[UserToken] { return t.cache }

// New prepares a user token valid for ttl (0: until revoked) without
// storing it: the caller may build audit entries naming it, then Add it.
// The credential is shown once and never stored.
func (t *Tokens) New(name string, role Role, ttl time.Duration, by string) (Credential, UserToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxTokenNameLen || !utf8.ValidString(name) {
		return Credential{}, UserToken{}, ErrTokenName
	}
	if _, err := ParseRole(string(role)); err != nil {
		return Credential{}, UserToken{}, err
	}
	if ttl < 0 {
		return Credential{}, UserToken{}, fmt.Errorf("ttl: want a positive duration, got %s", ttl)
	}
	cred, hash := NewCredential(KindUser)
	tok := UserToken{ID: cred.ID, Name: name, Role: role, Hash: hash, CreatedAt: t.now().UTC(), CreatedBy: by}
	if ttl > 0 {
		tok.ExpiresAt = tok.CreatedAt.Add(ttl)
	}
	return cred, tok, nil
}

// Add stores a token made by New; extra ops (an audit entry) commit with it.
func (t *Tokens) Add(ctx context.Context, tok UserToken, extra ...clientv3.Op) error {
	if err := t.store.Create(ctx, t.store.Key(store.KindTokens, tok.ID), tok, extra...); err != nil {
		return fmt.Errorf("creating token: %w", err)
	}
	t.cache.Set(tok.ID, tok)
	return nil
}

// Create makes and stores a user token: New then Add.
func (t *Tokens) Create(ctx context.Context, name string, role Role, ttl time.Duration, by string) (Credential, UserToken, error) {
	cred, tok, err := t.New(name, role, ttl, by)
	if err != nil {
		return Credential{}, UserToken{}, err
	}
	return cred, tok, t.Add(ctx, tok)
}

// Get reads a token from etcd with its mod revision, for Revoke.
func (t *Tokens) Get(ctx context.Context, id string) (UserToken, int64, error) {
	var tok UserToken
	rev, err := t.store.Get(ctx, t.store.Key(store.KindTokens, id), &tok)
	return tok, rev, err
}

// List returns every user token, by creation time.
func (t *Tokens) List(ctx context.Context) ([]UserToken, error) {
	out, err := store.ListValues[UserToken](ctx, t.store, t.store.Prefix(store.KindTokens))
	slices.SortFunc(out, func(a, b UserToken) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// Revoke deletes token tok, read by Get at revision rev, with extra ops
// (an audit entry) in the same transaction. The token's record goes; the
// audit entry keeps its trace. It refuses to revoke the last valid admin
// token, and returns store.ErrConflict when the token changed meanwhile.
func (t *Tokens) Revoke(ctx context.Context, tok UserToken, rev int64, extra ...clientv3.Op) error {
	key := t.store.Key(store.KindTokens, tok.ID)
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)}
	if tok.Role == RoleAdmin && t.valid(tok) {
		// Another valid admin token must still exist when this deletion
		// commits. etcd runs transactions one after another, so two
		// admins revoking each other at once cannot both succeed.
		all, err := t.List(ctx)
		if err != nil {
			return err
		}
		other := slices.IndexFunc(all, func(o UserToken) bool { return o.ID != tok.ID && o.Role == RoleAdmin && t.valid(o) })
		if other < 0 {
			return ErrLastAdmin
		}
		cmps = append(cmps, clientv3.Compare(clientv3.Version(t.store.Key(store.KindTokens, all[other].ID)), ">", 0))
	}
	resp, err := t.store.Client.Txn(ctx).If(cmps...).
		Then(append([]clientv3.Op{clientv3.OpDelete(key)}, extra...)...).Commit()
	if err != nil {
		return fmt.Errorf("revoking token %s: %w", tok.ID, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("revoking token %s: %w", tok.ID, store.ErrConflict)
	}
	t.cache.Delete(tok.ID)
	return nil
}

// valid reports whether tok has not expired.
func (t *Tokens) valid(tok UserToken) bool {
	return tok.ExpiresAt.IsZero() || t.now().Before(tok.ExpiresAt)
}

// Authenticate checks a user credential and returns its principal.
func (t *Tokens) Authenticate(ctx context.Context, c Credential) (Principal, error) {
	tok, err := t.cache.Load(ctx, c.ID)
	if err != nil || !SecretMatches(tok.Hash, c.Secret) {
		return Principal{}, ErrUnauthenticated
	}
	if !t.valid(tok) {
		// The caller holds the secret: saying why costs nothing.
		return Principal{}, fmt.Errorf("%w: token expired on %s; ask an administrator for a new one", ErrUnauthenticated, tok.ExpiresAt.Format(time.RFC3339))
	}
	return Principal{Kind: KindUser, ID: tok.ID, Name: tok.Name, Role: tok.Role}, nil
}

// PrincipalOf returns the principal of token id when it is still valid:
// a web session opened with a token ends when the token is revoked or
// expires.
func (t *Tokens) PrincipalOf(ctx context.Context, id string) (Principal, error) {
	tok, err := t.cache.Load(ctx, id)
	if err != nil || !t.valid(tok) {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Kind: KindUser, ID: tok.ID, Name: tok.Name, Role: tok.Role}, nil
}

// AdminTokenFile is the file in the data dir that receives the first admin
// token.
const AdminTokenFile = "admin.token"

// bootstrapKey marks that the first admin token was made, so that replicas
// starting together make exactly one.
const bootstrapKey = "meta/bootstrap"

// Bootstrap creates the first admin token on the first start of a fresh
// store and writes it to dataDir/admin.token with mode 0600. It returns the
// file's path, or "" when the store was already bootstrapped.
func (t *Tokens) Bootstrap(ctx context.Context, dataDir string) (string, error) {
	cred, hash := NewCredential(KindUser)
	tok := UserToken{ID: cred.ID, Name: "bootstrap admin", Role: RoleAdmin, Hash: hash,
		CreatedAt: t.now().UTC(), CreatedBy: "parc-server first start"}
	data, err := store.Encode(tok)
	if err != nil {
		return "", err
	}
	marker := t.store.Root() + bootstrapKey
	// Write the token to a side file before it exists in etcd, and move it
	// into place only once the transaction made it real: a failed write
	// leaves nothing in etcd that nobody can use, and a store bootstrapped
	// before keeps its admin.token untouched.
	path := filepath.Join(dataDir, AdminTokenFile)
	pending := path + ".pending"
	if err := writeSecretFile(pending, cred.String()+"\n"); err != nil {
		return "", err
	}
	defer os.Remove(pending)
	resp, err := t.store.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.Version(marker), "=", 0)).
		Then(
			clientv3.OpPut(marker, t.now().UTC().Format(time.RFC3339)),
			clientv3.OpPut(t.store.Key(store.KindTokens, tok.ID), string(data)),
		).Commit()
	if err != nil {
		return "", fmt.Errorf("bootstrapping admin token: %w", err)
	}
	if !resp.Succeeded {
		return "", nil // bootstrapped before, or by another replica
	}
	if err := os.Rename(pending, path); err != nil {
		return "", fmt.Errorf("admin token created but not saved; create another with an existing admin token: %w", err)
	}
	t.cache.Set(tok.ID, tok)
	return path, nil
}

// writeSecretFile writes data to path readable by its owner only, replacing
// it atomically.
func writeSecretFile(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	_, err = f.WriteString(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
