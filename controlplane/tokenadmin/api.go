// Package tokenadmin serves the admin API of credentials: enroll tokens
// for agents, user tokens for people, and the revocation and rotation of
// agent credentials. Every change is written to the audit log in the same
// transaction as the change.
package tokenadmin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves /api/v1/enroll-tokens, /api/v1/tokens and
// /api/v1/agents.
type Service struct {
	EnrollTokens *auth.EnrollTokens
	Tokens       *auth.Tokens
	Registry     *agents.Registry
	Audit        *audit.Log
	// CAHash is the hash of the CA agents pin, put into every enroll token;
	// "" without TLS.
	CAHash string
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("POST "+adminapi.PathEnrollTokens, auth.PermEnroll, s.createEnrollToken)
	rt.User("GET "+adminapi.PathEnrollTokens, auth.PermEnroll, s.listEnrollTokens)
	rt.User("DELETE "+adminapi.PathEnrollTokens+"/{id}", auth.PermEnroll, s.revokeEnrollToken)

	rt.User("POST "+adminapi.PathTokens, auth.PermTokensAdmin, s.createToken)
	rt.User("GET "+adminapi.PathTokens, auth.PermTokensAdmin, s.listTokens)
	rt.User("DELETE "+adminapi.PathTokens+"/{id}", auth.PermTokensAdmin, s.revokeToken)

	rt.User("GET "+adminapi.PathAgents+"/{id}", auth.PermFleetRead, s.showAgent)
	rt.User("POST "+adminapi.PathAgents+"/{id}/revoke", auth.PermEnroll, s.revokeAgent)
	rt.User("POST "+adminapi.PathAgents+"/{id}/rotate", auth.PermEnroll, s.rotateAgent)
}

// maxTokenTTL keeps tokens from living forever by accident; a year covers
// preparing a fleet before the school year.
const maxTokenTTL = 366 * 24 * time.Hour

// parseTTL reads an optional lifetime; 0 when absent.
func parseTTL(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	ttl, err := time.ParseDuration(v)
	if err != nil || ttl <= 0 || ttl > maxTokenTTL {
		return 0, httpapi.BadRequest("ttl: want a duration such as 72h, at most %s, got %.32q", maxTokenTTL, v)
	}
	return ttl, nil
}

// pathID reads and checks the {id} of the path.
func pathID(r *http.Request, what string) (string, error) {
	id := r.PathValue("id")
	if err := store.ValidID(id); err != nil {
		return "", httpapi.BadRequest("%s id: %v", what, err)
	}
	return id, nil
}

func (s *Service) createEnrollToken(w http.ResponseWriter, r *http.Request) error {
	var req adminapi.EnrollTokenRequest
	if err := httpapi.DecodeJSON(w, r, &req, httpapi.AdminJSON); err != nil {
		return err
	}
	p, _ := auth.PrincipalFrom(r.Context())
	tok := auth.EnrollToken{Site: req.Site, Role: req.Role, MaxUses: req.MaxUses, CreatedBy: p.Actor()}
	if req.Site != "" {
		if err := store.ValidID(req.Site); err != nil {
			return httpapi.BadRequest("site: %v", err)
		}
	}
	if req.Role != "" {
		if err := store.ValidID(req.Role); err != nil {
			return httpapi.BadRequest("role: %v", err)
		}
	}
	if req.MaxUses < 0 {
		return httpapi.BadRequest("max_uses: want 0 (unlimited) or more, got %d", req.MaxUses)
	}
	ttl, err := parseTTL(req.TTL)
	if err != nil {
		return err
	}
	cred, tok := s.EnrollTokens.New(tok, ttl)
	view := s.enrollTokenView(tok)
	trace, err := s.Audit.Op(r.Context(), audit.Entry{Action: audit.ActionEnrollTokenCreate, Object: "enroll-token/" + tok.ID,
		Site: tok.Site, After: audit.Snapshot(view)})
	if err != nil {
		return err
	}
	if err := s.EnrollTokens.Add(r.Context(), tok, trace); err != nil {
		return err
	}
	view.Token = agentapi.EnrollToken{Credential: cred.String(), CAHash: s.CAHash}.String()
	httpapi.WriteJSON(w, http.StatusCreated, view)
	return nil
}

func (s *Service) enrollTokenView(tok auth.EnrollToken) adminapi.EnrollToken {
	v := adminapi.EnrollToken{ID: tok.ID, Site: tok.Site, Role: tok.Role, CreatedAt: tok.CreatedAt, CreatedBy: tok.CreatedBy,
		MaxUses: tok.MaxUses, Uses: tok.Uses, CACertHash: s.CAHash, Revoked: tok.Revoked}
	if !tok.ExpiresAt.IsZero() {
		v.ExpiresAt = &tok.ExpiresAt
	}
	if !tok.RevokedAt.IsZero() {
		v.RevokedAt = &tok.RevokedAt
	}
	return v
}

func (s *Service) listEnrollTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := s.EnrollTokens.List(r.Context())
	if err != nil {
		return err
	}
	out := adminapi.EnrollTokenList{Tokens: make([]adminapi.EnrollToken, 0, len(toks))}
	for _, t := range toks {
		out.Tokens = append(out.Tokens, s.enrollTokenView(t))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) revokeEnrollToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "enroll token")
	if err != nil {
		return err
	}
	tok, rev, err := s.EnrollTokens.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.NotFound("no enroll token %q", id)
	}
	if err != nil {
		return err
	}
	if tok.Revoked {
		httpapi.WriteJSON(w, http.StatusOK, s.enrollTokenView(tok))
		return nil
	}
	p, _ := auth.PrincipalFrom(r.Context())
	revoked, err := s.EnrollTokens.Revoke(r.Context(), tok, rev, p.Actor(), func(before, after auth.EnrollToken) (clientv3.Op, error) {
		return s.Audit.Op(r.Context(), audit.Entry{Action: audit.ActionEnrollTokenRevoke, Object: "enroll-token/" + id,
			Site: tok.Site, Before: audit.Snapshot(s.enrollTokenView(before)), After: audit.Snapshot(s.enrollTokenView(after))})
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, s.enrollTokenView(revoked))
	return nil
}

func tokenView(t auth.UserToken) adminapi.Token {
	v := adminapi.Token{ID: t.ID, Name: t.Name, Role: string(t.Role), CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy}
	if !t.ExpiresAt.IsZero() {
		v.ExpiresAt = &t.ExpiresAt
	}
	return v
}

func (s *Service) createToken(w http.ResponseWriter, r *http.Request) error {
	var req adminapi.TokenRequest
	if err := httpapi.DecodeJSON(w, r, &req, httpapi.AdminJSON); err != nil {
		return err
	}
	if err := httpapi.CheckString("name", req.Name, auth.MaxTokenNameLen); err != nil {
		return err
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return httpapi.BadRequest("role: %v", err)
	}
	ttl, err := parseTTL(req.TTL)
	if err != nil {
		return err
	}
	p, _ := auth.PrincipalFrom(r.Context())
	cred, tok, err := s.Tokens.New(req.Name, role, ttl, p.Actor())
	if err != nil {
		return httpapi.BadRequest("%v", err)
	}
	view := tokenView(tok)
	trace, err := s.Audit.Op(r.Context(), audit.Entry{Action: audit.ActionTokenCreate, Object: "token/" + tok.ID, After: audit.Snapshot(view)})
	if err != nil {
		return err
	}
	if err := s.Tokens.Add(r.Context(), tok, trace); err != nil {
		return err
	}
	view.Token = cred.String()
	httpapi.WriteJSON(w, http.StatusCreated, view)
	return nil
}

func (s *Service) listTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := s.Tokens.List(r.Context())
	if err != nil {
		return err
	}
	out := adminapi.TokenList{Tokens: make([]adminapi.Token, 0, len(toks))}
	for _, t := range toks {
		out.Tokens = append(out.Tokens, tokenView(t))
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "token")
	if err != nil {
		return err
	}
	tok, rev, err := s.Tokens.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.NotFound("no token %q", id)
	}
	if err != nil {
		return err
	}
	trace, err := s.Audit.Op(r.Context(), audit.Entry{Action: audit.ActionTokenRevoke, Object: "token/" + id, Before: audit.Snapshot(tokenView(tok))})
	if err != nil {
		return err
	}
	err = s.Tokens.Revoke(r.Context(), tok, rev, trace)
	if errors.Is(err, auth.ErrLastAdmin) {
		return httpapi.Conflict("%v", err)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) showAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "agent")
	if err != nil {
		return err
	}
	a, err := s.Registry.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.NotFound("no agent %q", id)
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, agents.CredentialView(a))
	return nil
}

// agentAudit records a change of an agent's credential with its state
// before and after.
func (s *Service) agentAudit(r *http.Request, action, detail string) agents.AuditFunc {
	return func(before, after agents.Agent) (clientv3.Op, error) {
		return s.Audit.Op(r.Context(), audit.Entry{Action: action, Object: "agent/" + after.ID, Site: after.Site, Detail: detail,
			Before: audit.Snapshot(agents.CredentialView(before)), After: audit.Snapshot(agents.CredentialView(after))})
	}
}

func (s *Service) revokeAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "agent")
	if err != nil {
		return err
	}
	var req adminapi.RevokeRequest
	if err := httpapi.DecodeJSON(w, r, &req, httpapi.AdminJSON); err != nil {
		return err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if err := httpapi.CheckString("reason", req.Reason, httpapi.MaxTextLen); err != nil {
		return err
	}
	p, _ := auth.PrincipalFrom(r.Context())
	a, err := s.Registry.Revoke(r.Context(), id, p.Actor(), req.Reason, s.agentAudit(r, audit.ActionAgentRevoke, req.Reason))
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.NotFound("no agent %q", id)
	}
	if err != nil {
		return fmt.Errorf("revoking agent %s: %w", id, err)
	}
	httpapi.WriteJSON(w, http.StatusOK, agents.CredentialView(a))
	return nil
}

func (s *Service) rotateAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "agent")
	if err != nil {
		return err
	}
	a, err := s.Registry.RequestRotation(r.Context(), id, s.agentAudit(r, audit.ActionAgentRotate, ""))
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.NotFound("no agent %q", id)
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, agents.CredentialView(a))
	return nil
}
