package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/controlplane/auth"
)

type fakeAgents map[string]string // id → secret

func (f fakeAgents) AuthenticateAgent(_ context.Context, c auth.Credential) (auth.Principal, error) {
	if s, ok := f[c.ID]; ok && s == c.Secret {
		return auth.Principal{Kind: auth.KindAgent, ID: c.ID}, nil
	}
	return auth.Principal{}, auth.ErrUnauthenticated
}

func TestRouterRefusesUnknownPermission(t *testing.T) {
	rt := NewRouter(http.NewServeMux(), &auth.Authenticator{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, perm := range []auth.Permission{"", "fleet:everything"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering a route with permission %q did not panic", perm)
				}
			}()
			rt.User("GET /x", perm, func(http.ResponseWriter, *http.Request) error { return nil })
		}()
	}
}

func TestRateLimitAndChallenge(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	mux := http.NewServeMux()
	rt := NewRouter(mux, &auth.Authenticator{Agents: fakeAgents{"a1": "s1", "a2": "s2"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rt.Limits.Agent = NewRateLimiter(1, 3, func() time.Time { return now })
	rt.Agent("POST /c", func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(http.StatusNoContent); return nil })
	call := func(cred string) *http.Response {
		r := httptest.NewRequest(http.MethodPost, "/c", nil)
		if cred != "" {
			r.Header.Set("Authorization", "Bearer "+cred)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Result()
	}
	for i := range 3 {
		if s := call("pa_a1.s1").StatusCode; s != http.StatusNoContent {
			t.Fatalf("call %d within the burst: %d", i, s)
		}
	}
	resp := call("pa_a1.s1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("over the burst: %d, Retry-After %q; want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if s := call("pa_a2.s2").StatusCode; s != http.StatusNoContent {
		t.Errorf("another agent is limited by the first one's calls: %d", s)
	}
	now = now.Add(time.Second)
	if s := call("pa_a1.s1").StatusCode; s != http.StatusNoContent {
		t.Errorf("a second later: %d, want the refilled token", s)
	}
	// 401 says how to authenticate, and whether the credential was the
	// problem (RFC 6750).
	if resp := call(""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="parc"` {
		t.Errorf("no credential: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := call("pa_a1.wrong"); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("wrong credential: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestRateLimiterForgetsIdleCallers(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := NewRateLimiter(10, 5, func() time.Time { return now })
	for i := range 100 {
		l.Allow(strings.Repeat("k", i+1))
	}
	now = now.Add(2 * sweepEvery)
	l.Allow("fresh")
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets kept after every caller went idle, want only the fresh one", n)
	}
	if NewRateLimiter(0, 5, time.Now) != nil {
		t.Error("rate 0 must mean no limiter")
	}
	var unlimited *RateLimiter
	if ok, _ := unlimited.Allow("x"); !ok {
		t.Error("a nil limiter refused")
	}
}
