package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// ErrUnauthenticated is returned for a missing, malformed, unknown or wrong
// credential. The caller is not told which, so as not to help guessing.
var ErrUnauthenticated = errors.New("missing or invalid credential")

// AgentVerifier checks an agent credential; the agent registry implements it.
type AgentVerifier interface {
	AuthenticateAgent(ctx context.Context, c Credential) (Principal, error)
}

// Authenticator turns a request's bearer credential into a principal.
type Authenticator struct {
	Users  *Tokens
	Agents AgentVerifier
}

// Authenticate returns the principal of the request's credential, which must
// be of the wanted kind (KindUser or KindAgent).
func (a *Authenticator) Authenticate(r *http.Request, kind string) (Principal, error) {
	c, ok := BearerCredential(r)
	if !ok || c.Kind != kind {
		return Principal{}, ErrUnauthenticated
	}
	switch kind {
	case KindUser:
		return a.Users.Authenticate(r.Context(), c)
	case KindAgent:
		return a.Agents.AuthenticateAgent(r.Context(), c)
	}
	return Principal{}, ErrUnauthenticated
}

// BearerCredential parses the request's bearer credential; false when it
// is absent or not a parc credential.
func BearerCredential(r *http.Request) (Credential, bool) {
	raw, ok := bearer(r)
	if !ok {
		return Credential{}, false
	}
	c, err := ParseCredential(raw)
	return c, err == nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, value, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || value == "" {
		return "", false
	}
	return strings.TrimSpace(value), true
}
