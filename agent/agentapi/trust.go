package agentapi

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// CAHashPrefix starts every CA hash: the algorithm, as kubeadm writes its
// --discovery-token-ca-cert-hash.
const CAHashPrefix = "sha256:"

// CAHash identifies a CA certificate by the SHA-256 of its public key
// (SubjectPublicKeyInfo), so that a CA re-issued with the same key keeps
// its hash.
func CAHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return CAHashPrefix + hex.EncodeToString(sum[:])
}

// MaxCABundleBytes bounds the CA bundle an agent accepts from
// PathCA: a bundle is a few certificates, never more.
const MaxCABundleBytes = 64 << 10

// ErrCAHashMismatch says that no certificate the server offered has the
// hash the enroll token carries: the agent is not talking to the server the
// token was made for (or someone is in between).
var ErrCAHashMismatch = errors.New("no CA certificate matches the enroll token's CA hash")

// PinnedCA returns the certificate of the PEM bundle whose CAHash is hash.
// The agent then trusts that certificate alone.
func PinnedCA(bundle []byte, hash string) (*x509.Certificate, error) {
	if len(bundle) > MaxCABundleBytes {
		return nil, fmt.Errorf("CA bundle of %d bytes, at most %d", len(bundle), MaxCABundleBytes)
	}
	certs, err := ParseCertificates(bundle)
	if err != nil {
		return nil, err
	}
	for _, c := range certs {
		if CAHash(c) == hash {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w (%s)", ErrCAHashMismatch, hash)
}

// ParseCertificates reads every certificate of a PEM bundle; it fails on a
// bundle with none or with a block that is not a certificate.
func ParseCertificates(bundle []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("CA bundle holds a %q block, want only certificates", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("CA bundle holds no PEM certificate")
	}
	return certs, nil
}

// EnrollToken is an enroll token as a technician copies it: the credential
// the server checks and, after '@', the hash of the server's CA, which the
// agent pins before it sends anything:
//
//	pe_<id>.<secret>@sha256:<64 hex digits>
//
// A server running without TLS (--insecure-http, local development) hands
// out tokens without the '@' part.
type EnrollToken struct {
	Credential string
	// CAHash is "" when the token carries none.
	CAHash string
}

// String formats the token as parcctl prints it.
func (t EnrollToken) String() string {
	if t.CAHash == "" {
		return t.Credential
	}
	return t.Credential + "@" + t.CAHash
}

// ID is the token's id, the part between "pe_" and the '.'.
func (t EnrollToken) ID() string {
	id, _, _ := strings.Cut(strings.TrimPrefix(t.Credential, "pe_"), ".")
	return id
}

// ErrMalformedEnrollToken is returned for a string that is not an enroll
// token.
var ErrMalformedEnrollToken = errors.New("not a parc enroll token (want pe_<id>.<secret>@sha256:<hex>)")

// Upper bound of the credential part; the server checks its exact shape.
const maxEnrollCredentialLen = 256

// ParseEnrollToken splits an enroll token into its credential and CA hash,
// checking the CA hash exactly and the credential's outline only (the
// server parses it).
func ParseEnrollToken(s string) (EnrollToken, error) {
	s = strings.TrimSpace(s)
	cred, hash, hasHash := strings.Cut(s, "@")
	if !strings.HasPrefix(cred, "pe_") || len(cred) > maxEnrollCredentialLen || !strings.Contains(cred, ".") {
		return EnrollToken{}, ErrMalformedEnrollToken
	}
	for _, r := range cred {
		if r <= ' ' || r > '~' {
			return EnrollToken{}, ErrMalformedEnrollToken
		}
	}
	if !hasHash {
		return EnrollToken{Credential: cred}, nil
	}
	hash = strings.ToLower(hash)
	digest, ok := strings.CutPrefix(hash, CAHashPrefix)
	if !ok || len(digest) != 2*sha256.Size {
		return EnrollToken{}, fmt.Errorf("%w: CA hash %q: want sha256: and 64 hex digits", ErrMalformedEnrollToken, hash)
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return EnrollToken{}, fmt.Errorf("%w: CA hash %q: want sha256: and 64 hex digits", ErrMalformedEnrollToken, hash)
	}
	return EnrollToken{Credential: cred, CAHash: hash}, nil
}
