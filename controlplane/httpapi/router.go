package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/parc-project/parc/controlplane/auth"
)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Access says who may call a route.
type Access int

// Kinds of access.
const (
	Public Access = iota // anyone: health checks, enrollment (which checks its token itself)
	Agent                // an enrolled agent, with its own credential
	User                 // a person's token with the route's permission
)

// Route is one registered endpoint, kept so tests can walk every endpoint.
type Route struct {
	Pattern string
	Access  Access
	Perm    auth.Permission // for User routes
}

// Router registers routes on a ServeMux, wrapping each in the
// authentication, permission check and rate limit it declares.
type Router struct {
	mux    *http.ServeMux
	auth   *auth.Authenticator
	log    *slog.Logger
	routes []Route
	// Limits are the rate limits of authenticated callers; nil limiters
	// allow everything.
	Limits Limits
}

// Limits are the per-caller rate limits: per agent, and per user token.
type Limits struct {
	Agent, User *RateLimiter
}

// NewRouter returns a router on mux.
func NewRouter(mux *http.ServeMux, a *auth.Authenticator, log *slog.Logger) *Router {
	return &Router{mux: mux, auth: a, log: log}
}

// Routes lists what was registered.
func (rt *Router) Routes() []Route { return rt.routes }

// Public registers a route anyone may call.
func (rt *Router) Public(pattern string, h HandlerFunc) {
	rt.routes = append(rt.routes, Route{Pattern: pattern, Access: Public})
	rt.mux.Handle(pattern, rt.wrap(h))
}

// Agent registers a route for enrolled agents.
func (rt *Router) Agent(pattern string, h HandlerFunc) {
	rt.routes = append(rt.routes, Route{Pattern: pattern, Access: Agent})
	rt.mux.Handle(pattern, rt.wrap(func(w http.ResponseWriter, r *http.Request) error {
		p, err := rt.auth.Authenticate(r, auth.KindAgent)
		if err != nil {
			return unauthenticated(err)
		}
		if err := limit(rt.Limits.Agent, p, "agent"); err != nil {
			return err
		}
		return h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	}))
}

// User registers a route for people whose role grants perm. perm must be
// one of auth.Permissions: a route without a real permission is a bug
// caught at start-up, not a door left open.
func (rt *Router) User(pattern string, perm auth.Permission, h HandlerFunc) {
	if !perm.Known() {
		panic(fmt.Sprintf("httpapi: route %q registered with unknown permission %q", pattern, perm))
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Access: User, Perm: perm})
	rt.mux.Handle(pattern, rt.wrap(func(w http.ResponseWriter, r *http.Request) error {
		p, err := rt.auth.Authenticate(r, auth.KindUser)
		if err != nil {
			return unauthenticated(err)
		}
		if err := limit(rt.Limits.User, p, "token"); err != nil {
			return err
		}
		if !p.Allows(perm) {
			return Errorf(http.StatusForbidden, "forbidden", "role %s may not %s", p.Role, perm)
		}
		return h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	}))
}

// limit takes a token from p's bucket, or answers 429 saying when to retry.
func limit(l *RateLimiter, p auth.Principal, what string) error {
	ok, wait := l.Allow(p.ID)
	if ok {
		return nil
	}
	return &Error{Status: http.StatusTooManyRequests, Msg: "too many requests",
		Detail: fmt.Sprintf("this %s is over its rate limit; retry in %ds", what, retryAfterSeconds(wait)), RetryAfter: wait}
}

func unauthenticated(err error) error {
	return &Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: err.Error()}
}

func (rt *Router) wrap(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, rt.log, err)
		}
	})
}
