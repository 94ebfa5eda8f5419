// Package webui is parc-server's web interface for technicians and
// coordinators: pages rendered on the server with html/template, usable on
// a phone in a storeroom and on a desk, in French and English. It signs
// people in with the same user tokens as parcctl, keeps sessions in etcd,
// protects every form against cross-site requests, and calls the server's
// own services: every number it shows is the one the admin API answers.
package webui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/continuity"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/placement"
	"github.com/parc-project/parc/controlplane/units"
)

//go:embed templates/*.html static/*
var files embed.FS

// Prefix is where the UI is served.
const Prefix = "/ui/"

// UI serves the web interface. Its fields are the server's own services.
type UI struct {
	Sessions   *Sessions
	Inventory  *inventory.Inventory
	Units      *units.Service
	Continuity *continuity.Service
	Placement  *placement.Service
	Loans      *loans.Book
	Audit      *audit.Log
	// Limit is the per-token rate limit the admin API applies; nil allows all.
	Limit *httpapi.RateLimiter
	// TLS says the UI is served over HTTPS: cookies are then Secure.
	TLS bool
	Log *slog.Logger
	Now func() time.Time

	pages map[string]*template.Template
}

// pageNames are the templates, each rendered inside layout.html.
var pageNames = []string{"signin", "overview", "work", "unit", "loans", "places", "continuity", "import", "error"}

// Register parses the templates and adds the UI's routes to mux.
func (u *UI) Register(mux *http.ServeMux) error {
	u.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web UI template %s: %w", name, err)
		}
		u.pages[name] = t
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return err
	}
	fileServer := http.StripPrefix(Prefix+"static/", http.FileServerFS(static))
	mux.Handle("GET "+Prefix+"static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix, http.StatusSeeOther) })
	mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix, http.StatusSeeOther) })
	mux.HandleFunc("GET "+Prefix+"signin", u.public(u.signinForm))
	mux.HandleFunc("POST "+Prefix+"signin", u.public(u.signin))
	mux.HandleFunc("GET "+Prefix+"lang", u.public(u.switchLang))
	mux.HandleFunc("POST "+Prefix+"signout", u.page("", u.signout))
	mux.HandleFunc("GET "+Prefix+"{$}", u.page(auth.PermFleetRead, u.overview))
	mux.HandleFunc("GET "+Prefix+"work", u.page(auth.PermFleetRead, u.work))
	mux.HandleFunc("GET "+Prefix+"units/{id}", u.page(auth.PermFleetRead, u.unit))
	mux.HandleFunc("GET "+Prefix+"loans", u.page(auth.PermLoansRead, u.loans))
	mux.HandleFunc("POST "+Prefix+"loans/checkout", u.page(auth.PermLoansWrite, u.checkout))
	mux.HandleFunc("POST "+Prefix+"loans/change", u.page(auth.PermLoansWrite, u.change))
	mux.HandleFunc("GET "+Prefix+"places", u.page(auth.PermFleetRead, u.places))
	mux.HandleFunc("GET "+Prefix+"continuity", u.page(auth.PermLoansRead, u.continuity))
	mux.HandleFunc("GET "+Prefix+"import", u.page(auth.PermFleetWrite, u.importForm))
	mux.HandleFunc("POST "+Prefix+"import", u.page(auth.PermFleetWrite, u.importPreview))
	mux.HandleFunc("POST "+Prefix+"import/confirm", u.page(auth.PermFleetWrite, u.importConfirm))
	return nil
}

// request is what a page handler knows of its caller.
type request struct {
	P      auth.Principal
	Lang   string
	sess   session
	secret string
}

type pageFunc func(w http.ResponseWriter, r *http.Request, rq *request) error

// uiError is an answer a page handler chose: a status and a message key.
type uiError struct {
	Status int
	Key    string
	Detail string
}

func (e *uiError) Error() string { return e.Key + ": " + e.Detail }

func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
}

// public wraps a page anyone may open (sign-in, language switch).
func (u *UI) public(h pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		rq := &request{Lang: language(r)}
		if r.Method == http.MethodPost && !sameOrigin(r) {
			u.fail(w, r, rq, &uiError{Status: http.StatusForbidden, Key: "err.cross_site"})
			return
		}
		if err := h(w, r, rq); err != nil {
			u.fail(w, r, rq, err)
		}
	}
}

// page wraps a page for signed-in people whose role grants perm ("" for
// any role): no session sends a browser to the sign-in page; a POST must
// come from this site's pages and carry the session's CSRF token.
func (u *UI) page(perm auth.Permission, h pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		rq := &request{Lang: language(r)}
		c, err := r.Cookie(u.cookieName())
		if err == nil {
			rq.secret = c.Value
			rq.sess, rq.P, err = u.Sessions.Get(r.Context(), c.Value)
		}
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthenticated) && !errors.Is(err, http.ErrNoCookie) {
				u.fail(w, r, rq, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.fail(w, r, rq, &uiError{Status: http.StatusUnauthorized, Key: "err.signed_out"})
			return
		}
		if ok, wait := u.Limit.Allow(rq.P.ID); !ok {
			w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
			u.fail(w, r, rq, &uiError{Status: http.StatusTooManyRequests, Key: "err.too_many"})
			return
		}
		if perm != "" && !rq.P.Allows(perm) {
			u.fail(w, r, rq, &uiError{Status: http.StatusForbidden, Key: "err.forbidden", Detail: string(perm)})
			return
		}
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				u.fail(w, r, rq, &uiError{Status: http.StatusForbidden, Key: "err.cross_site"})
				return
			}
			if err := r.ParseMultipartForm(inventory.MaxImportBytes); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				u.fail(w, r, rq, &uiError{Status: http.StatusBadRequest, Key: "err.bad_form", Detail: err.Error()})
				return
			}
			if !validCSRF(rq.sess, r.PostFormValue("csrf")) {
				u.fail(w, r, rq, &uiError{Status: http.StatusForbidden, Key: "err.csrf"})
				return
			}
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), rq.P))
		if err := h(w, r, rq); err != nil {
			u.fail(w, r, rq, err)
		}
	}
}

// view is what every template receives.
type view struct {
	Lang  string
	Title string // catalog key
	Nav   string
	User  auth.Principal
	CSRF  string
	// Here is the page's own address, for the language switch to come back to.
	Here  string
	Flash string // catalog key
	Err   string // catalog key
	// ErrDetail is the service's own words (English) under a translated Err.
	ErrDetail string
	Data      any
}

// T translates key into the page's language.
func (v *view) T(key string, args ...any) string { return translate(v.Lang, key, args...) }

// Can reports whether the signed-in person may do perm.
func (v *view) Can(perm string) bool { return v.User.Allows(auth.Permission(perm)) }

// Other is the language the switch offers.
func (v *view) Other() string {
	if v.Lang == "fr" {
		return "en"
	}
	return "fr"
}

func (u *UI) newView(r *http.Request, rq *request, title, nav string, data any) *view {
	return &view{Lang: rq.Lang, Title: title, Nav: nav, User: rq.P, CSRF: rq.sess.CSRF, Here: r.URL.RequestURI(), Data: data}
}

// render executes a page into a buffer first, so that a template error
// becomes an error page rather than half a page.
func (u *UI) render(w http.ResponseWriter, status int, name string, v *view) error {
	var buf bytes.Buffer
	if err := u.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("rendering page %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

// fail answers with an error page: a uiError's own status and message,
// the admin API's statuses for the services' errors, 500 for the rest
// (logged, and the person told only that it failed).
func (u *UI) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	ue := &uiError{}
	var he *httpapi.Error
	switch {
	case errors.As(err, &ue):
	case errors.As(err, &he):
		ue = &uiError{Status: he.Status, Key: "err.status", Detail: he.Detail}
		if he.Status == http.StatusNotFound {
			ue.Key = "err.not_found"
		}
	case r.Context().Err() != nil:
		return
	default:
		u.Log.Error("web UI page failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ue = &uiError{Status: http.StatusInternalServerError, Key: "err.internal"}
	}
	v := u.newView(r, rq, "title.error", "", nil)
	v.Err, v.ErrDetail = ue.Key, ue.Detail
	if err := u.render(w, ue.Status, "error", v); err != nil {
		u.Log.Error("rendering the error page", "err", err)
		http.Error(w, http.StatusText(ue.Status), ue.Status)
	}
}

// localPath returns p when it is a path of the UI, else the overview: a
// redirect after sign-in or a language switch never leaves the site.
func localPath(p string) string {
	if strings.HasPrefix(p, Prefix) && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n") {
		return p
	}
	return Prefix
}
