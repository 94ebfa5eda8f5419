package webui

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/store"
)

// Sessions keeps web sessions in etcd, each under a lease that ends it, so
// that every replica accepts a session any replica opened and a restart
// signs nobody out. The cookie carries a random secret; the key is its
// hash, so a copy of etcd yields no usable cookie. A session holds the id
// of the user token it was opened with, never the token's secret: revoking
// or letting the token expire ends the session at its next request.
//
// Why not a signed cookie: it would need a key shared by every replica
// (one more secret in etcd), and signing out could not end it before its
// expiry; one etcd read per page is nothing next to the agents' load.
type Sessions struct {
	Store  *store.Store
	Tokens *auth.Tokens
	// TTL is a session's lifetime from sign-in: a working day.
	TTL time.Duration
	Now func() time.Time
}

// session is what etcd holds about one session.
type session struct {
	TokenID   string    `json:"token"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
}

// DefaultSessionTTL is a session's lifetime: a working day, so a shared
// storeroom computer left signed in is signed out by the next morning.
const DefaultSessionTTL = 10 * time.Hour

func (s *Sessions) key(secret string) string {
	return s.Store.Key(store.KindSessions, auth.HashSecret(secret))
}

// Open checks a user token (as parcctl sends it) and opens a session for
// it; it returns the cookie's secret and the principal.
func (s *Sessions) Open(ctx context.Context, token string) (string, session, auth.Principal, error) {
	c, err := auth.ParseCredential(token)
	if err != nil || c.Kind != auth.KindUser {
		return "", session{}, auth.Principal{}, auth.ErrUnauthenticated
	}
	p, err := s.Tokens.Authenticate(ctx, c)
	if err != nil {
		return "", session{}, auth.Principal{}, err
	}
	secret := auth.NewSecret()
	sess := session{TokenID: p.ID, CSRF: auth.NewSecret(), CreatedAt: s.Now().UTC()}
	data, err := store.Encode(sess)
	if err != nil {
		return "", session{}, auth.Principal{}, err
	}
	lease, err := s.Store.Client.Grant(ctx, int64(s.TTL/time.Second))
	if err != nil {
		return "", session{}, auth.Principal{}, fmt.Errorf("granting the session's lease: %w", err)
	}
	if _, err := s.Store.Client.Put(ctx, s.key(secret), string(data), clientv3.WithLease(lease.ID)); err != nil {
		return "", session{}, auth.Principal{}, fmt.Errorf("storing the session: %w", err)
	}
	return secret, sess, p, nil
}

// Get returns the session of a cookie's secret and its principal;
// auth.ErrUnauthenticated when it expired, was closed, or its token is no
// longer valid.
func (s *Sessions) Get(ctx context.Context, secret string) (session, auth.Principal, error) {
	if secret == "" || len(secret) > 128 {
		return session{}, auth.Principal{}, auth.ErrUnauthenticated
	}
	var sess session
	if _, err := s.Store.Get(ctx, s.key(secret), &sess); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return session{}, auth.Principal{}, auth.ErrUnauthenticated
		}
		return session{}, auth.Principal{}, fmt.Errorf("reading the session: %w", err)
	}
	p, err := s.Tokens.PrincipalOf(ctx, sess.TokenID)
	if err != nil {
		return session{}, auth.Principal{}, err
	}
	return sess, p, nil
}

// Close ends a session, and its lease with it.
func (s *Sessions) Close(ctx context.Context, secret string) error {
	resp, err := s.Store.Client.Get(ctx, s.key(secret))
	if err != nil {
		return fmt.Errorf("reading the session: %w", err)
	}
	for _, kv := range resp.Kvs {
		if _, err := s.Store.Client.Revoke(ctx, clientv3.LeaseID(kv.Lease)); err != nil {
			return fmt.Errorf("ending the session: %w", err)
		}
	}
	return nil
}

// Cookie names. Over TLS the __Host- prefix makes browsers refuse the
// cookie unless it is Secure, for this host only and for every path.
const (
	cookieTLS   = "__Host-parc_session"
	cookiePlain = "parc_session"
	langCookie  = "parc_lang"
)

func (u *UI) cookieName() string {
	if u.TLS {
		return cookieTLS
	}
	return cookiePlain
}

func (u *UI) setSessionCookie(w http.ResponseWriter, secret string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: u.cookieName(), Value: secret, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: u.TLS, SameSite: http.SameSiteLaxMode})
}

// sameOrigin refuses a state-changing request another site's page made:
// the browser says where it comes from with Sec-Fetch-Site (all current
// browsers) and Origin; a request naming neither (an old browser, a
// script) is let through to the CSRF token check.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	ou, err := url.Parse(o)
	return err == nil && ou.Host == r.Host
}

// validCSRF checks a form's CSRF token against its session's.
func validCSRF(sess session, got string) bool {
	return sess.CSRF != "" && subtle.ConstantTimeCompare([]byte(sess.CSRF), []byte(got)) == 1
}
