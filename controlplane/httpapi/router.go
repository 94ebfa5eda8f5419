package httpapi

import (
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
// authentication and permission check it declares.
type Router struct {
	mux    *http.ServeMux
	auth   *auth.Authenticator
	log    *slog.Logger
	routes []Route
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
		return h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	}))
}

// User registers a route for people whose role grants perm.
func (rt *Router) User(pattern string, perm auth.Permission, h HandlerFunc) {
	rt.routes = append(rt.routes, Route{Pattern: pattern, Access: User, Perm: perm})
	rt.mux.Handle(pattern, rt.wrap(func(w http.ResponseWriter, r *http.Request) error {
		p, err := rt.auth.Authenticate(r, auth.KindUser)
		if err != nil {
			return unauthenticated(err)
		}
		if !p.Allows(perm) {
			return Errorf(http.StatusForbidden, "forbidden", "role %s may not %s", p.Role, perm)
		}
		return h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	}))
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
