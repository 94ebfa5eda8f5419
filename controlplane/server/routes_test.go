package server_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
)

// publicRoutes are the only routes anyone may call without a credential.
// A new entry here must be argued for: enrollment checks its own token,
// credential confirmation its own credential, the CA is public by nature.
var publicRoutes = map[string]bool{
	"GET /healthz":                           true,
	"GET /readyz":                            true,
	"GET " + agentapi.PathCA:                 true,
	"POST " + agentapi.PathEnroll:            true,
	"POST " + agentapi.PathCredentialConfirm: true,
}

// TestEveryRouteChecksAccess walks every route the server registers, as
// registered (so routes added later are walked too), and calls each with
// no credential, an agent credential and a token of every role: a person's
// route must answer 403 exactly to the roles whose permissions lack the
// route's, an agent's route must refuse people, and a route may be public
// only if listed above.
func TestEveryRouteChecksAccess(t *testing.T) {
	srv, hs := inProcess(t, "--rate-limit-user", "0", "--rate-limit-agent", "0")
	ctx := context.Background()
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		cred, _, err := srv.Tokens.Create(ctx, "walk "+string(role), role, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = cred.String()
	}
	enrollCred, _, err := auth.NewEnrollTokens(srv.Store, nowFunc).Create(ctx, auth.EnrollToken{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(hs.URL, nil, "walk")
	enrolled, err := c.Enroll(ctx, agentapi.EnrollRequest{Token: enrollCred.String(), Hostname: "walk"})
	if err != nil {
		t.Fatal(err)
	}
	agentCred := enrolled.Credential

	call := func(method, path, cred string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, bytes.NewReader(nil))
		req.Header.Set("Content-Type", "application/json")
		if cred != "" {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp
	}
	// A probe id in every {wildcard}: valid, and naming nothing.
	wildcard := regexp.MustCompile(`\{[^}]+\}`)

	routes := srv.Router.Routes()
	counts := map[httpapi.Access]int{}
	for _, rt := range routes {
		counts[rt.Access]++
		method, pattern, ok := strings.Cut(rt.Pattern, " ")
		if !ok {
			t.Errorf("route %q has no method: it answers every method", rt.Pattern)
			continue
		}
		path := wildcard.ReplaceAllString(pattern, "walk-probe")
		switch rt.Access {
		case httpapi.Public:
			if !publicRoutes[rt.Pattern] {
				t.Errorf("route %s is public: register it with Router.User and a permission (or Router.Agent), or argue for it in publicRoutes", rt.Pattern)
			}
		case httpapi.Agent:
			for name, cred := range map[string]string{"no credential": "", "admin token": tokens[auth.RoleAdmin]} {
				if resp := call(method, path, cred); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s with %s: %d (WWW-Authenticate %q), want 401 with a challenge", rt.Pattern, name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
			}
			if resp := call(method, path, agentCred); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				t.Errorf("%s with an agent credential: %d", rt.Pattern, resp.StatusCode)
			}
		case httpapi.User:
			if !rt.Perm.Known() {
				t.Errorf("route %s requires unknown permission %q", rt.Pattern, rt.Perm)
			}
			for name, cred := range map[string]string{"no credential": "", "an agent credential": agentCred} {
				if resp := call(method, path, cred); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s with %s: %d, want 401 with a challenge", rt.Pattern, name, resp.StatusCode)
				}
			}
			for _, role := range auth.Roles {
				status := call(method, path, tokens[role]).StatusCode
				allowed := role.Allows(rt.Perm)
				switch {
				case allowed && (status == http.StatusUnauthorized || status == http.StatusForbidden):
					t.Errorf("%s as %s: %d, want it allowed (%s grants %s)", rt.Pattern, role, status, role, rt.Perm)
				case !allowed && status != http.StatusForbidden:
					t.Errorf("%s as %s: %d, want 403 (%s lacks %s)", rt.Pattern, role, status, role, rt.Perm)
				}
			}
		default:
			t.Errorf("route %s has unknown access %d", rt.Pattern, rt.Access)
		}
	}
	// The walk must have walked something of each kind, or it proves
	// nothing.
	if counts[httpapi.Public] == 0 || counts[httpapi.Agent] == 0 || counts[httpapi.User] < 10 {
		t.Errorf("walked %v routes by access; the router lists too few", counts)
	}
	t.Logf("walked %d routes: %d public, %d agent, %d user, each with %d roles", len(routes), counts[httpapi.Public], counts[httpapi.Agent], counts[httpapi.User], len(auth.Roles))
}
