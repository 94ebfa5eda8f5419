package auth

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

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
}

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

// Create makes a new user token and returns its credential, shown once.
func (t *Tokens) Create(ctx context.Context, name string, role Role, by string) (Credential, UserToken, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return Credential{}, UserToken{}, err
	}
	cred, hash := NewCredential(KindUser)
	tok := UserToken{ID: cred.ID, Name: name, Role: role, Hash: hash, CreatedAt: t.now().UTC(), CreatedBy: by}
	if err := t.store.Create(ctx, t.store.Key(store.KindTokens, tok.ID), tok); err != nil {
		return Credential{}, UserToken{}, fmt.Errorf("creating token: %w", err)
	}
	t.cache.Set(tok.ID, tok)
	return cred, tok, nil
}

// Authenticate checks a user credential and returns its principal.
func (t *Tokens) Authenticate(ctx context.Context, c Credential) (Principal, error) {
	tok, err := t.cache.Load(ctx, c.ID)
	if err != nil || !SecretMatches(tok.Hash, c.Secret) {
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
