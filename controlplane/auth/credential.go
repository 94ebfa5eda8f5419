// Package auth says who is calling and what they may do: credentials (user
// tokens, enroll tokens, agent credentials), roles and their permissions,
// and the principal a request runs as.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Credential kinds, the prefix of a credential string. The prefix lets a
// leaked string be recognised (secret scanners) and routed to its store.
const (
	KindUser   = "pu" // a person's token, for the admin API and parcctl
	KindEnroll = "pe" // an enroll token, traded once for an agent credential
	KindAgent  = "pa" // an agent's own credential
)

// ErrMalformed is returned for a string that is not a parc credential.
var ErrMalformed = errors.New("malformed credential")

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomString returns n random bytes as lowercase base32.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on the platforms parc supports; if it
		// did, continuing would hand out guessable secrets.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return strings.ToLower(encoding.EncodeToString(b))
}

// NewID returns a random identifier: 80 bits, 16 characters.
func NewID() string { return randomString(10) }

// NewSecret returns a random secret: 160 bits, 32 characters. Secrets this
// long need no slow password hash: a SHA-256 of them cannot be reversed.
func NewSecret() string { return randomString(20) }

// HashSecret returns the form in which a secret is stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches compares a secret with a stored hash in constant time.
func SecretMatches(hash, secret string) bool {
	got := HashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// Credential is a parsed credential string: kind_id.secret.
type Credential struct {
	Kind   string
	ID     string
	Secret string
}

// String formats the credential as handed to its holder.
func (c Credential) String() string { return c.Kind + "_" + c.ID + "." + c.Secret }

// ParseCredential splits a credential string. It checks the shape only.
func ParseCredential(s string) (Credential, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(s), "_")
	if !ok {
		return Credential{}, ErrMalformed
	}
	id, secret, ok := strings.Cut(rest, ".")
	if !ok || id == "" || secret == "" || len(id) > 64 || len(secret) > 128 {
		return Credential{}, ErrMalformed
	}
	switch kind {
	case KindUser, KindEnroll, KindAgent:
	default:
		return Credential{}, ErrMalformed
	}
	for _, r := range id + secret {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return Credential{}, ErrMalformed
		}
	}
	return Credential{Kind: kind, ID: id, Secret: secret}, nil
}

// NewCredential returns a fresh credential of kind and the hash to store.
func NewCredential(kind string) (Credential, string) {
	c := Credential{Kind: kind, ID: NewID(), Secret: NewSecret()}
	return c, HashSecret(c.Secret)
}
