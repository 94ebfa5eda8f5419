// Package tokenadmin serves the admin API that hands out credentials:
// enroll tokens for agents.
package tokenadmin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves /api/v1/enroll-tokens.
type Service struct {
	EnrollTokens *auth.EnrollTokens
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("POST "+adminapi.PathEnrollTokens, auth.PermEnroll, s.createEnrollToken)
}

// maxTokenTTL keeps enroll tokens from living forever by accident; a year
// covers preparing a fleet before the school year.
const maxTokenTTL = 366 * 24 * time.Hour

func (s *Service) createEnrollToken(w http.ResponseWriter, r *http.Request) error {
	var req adminapi.EnrollTokenRequest
	if err := httpapi.DecodeJSON(w, r, &req, httpapi.DecodeOptions{MaxBytes: 16 << 10, Strict: true}); err != nil {
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
	var ttl time.Duration
	if req.TTL != "" {
		var err error
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 || ttl > maxTokenTTL {
			return httpapi.BadRequest("ttl: want a duration such as 72h, at most %s, got %q", maxTokenTTL, req.TTL)
		}
	}
	cred, tok, err := s.EnrollTokens.Create(r.Context(), tok, ttl)
	if err != nil {
		return fmt.Errorf("creating enroll token: %w", err)
	}
	out := adminapi.EnrollToken{ID: tok.ID, Token: cred.String(), Site: tok.Site, Role: tok.Role,
		CreatedAt: tok.CreatedAt, MaxUses: tok.MaxUses, Uses: tok.Uses}
	if !tok.ExpiresAt.IsZero() {
		out.ExpiresAt = &tok.ExpiresAt
	}
	httpapi.WriteJSON(w, http.StatusCreated, out)
	return nil
}
