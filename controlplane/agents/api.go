package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/lastseen"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves the agent API.
type Service struct {
	Store        *store.Store
	Registry     *Registry
	Reports      *Reports
	EnrollTokens *auth.EnrollTokens
	LastSeen     *lastseen.Coalescer
	Policy       agentapi.Policy
	Now          func() time.Time
	Log          *slog.Logger
}

// Register adds the agent API routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.Public("POST "+agentapi.PathEnroll, s.enroll)
	rt.Agent("POST "+agentapi.PathCheckin, s.checkin)
}

var decodeAgent = httpapi.DecodeOptions{MaxBytes: agentapi.MaxBodyBytes}

// enrollAttempts bounds retries when many agents redeem one token at once.
const enrollAttempts = 10

func (s *Service) enroll(w http.ResponseWriter, r *http.Request) error {
	var req agentapi.EnrollRequest
	if err := httpapi.DecodeJSON(w, r, &req, decodeAgent); err != nil {
		return err
	}
	if err := validateEnroll(&req); err != nil {
		return err
	}
	cred, err := auth.ParseCredential(req.Token)
	if err != nil || cred.Kind != auth.KindEnroll {
		return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: "token: not a parc enroll token (pe_...)"}
	}
	for range enrollAttempts {
		tok, cmp, use, err := s.EnrollTokens.Redeem(r.Context(), cred)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: "unknown enroll token"}
		case errors.Is(err, auth.ErrTokenExpired), errors.Is(err, auth.ErrTokenUsedUp), errors.Is(err, auth.ErrTokenRevoked):
			return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: err.Error()}
		case err != nil:
			return err
		}
		agentCred, hash := auth.NewCredential(auth.KindAgent)
		a := Agent{
			ID: agentCred.ID, Hash: hash, Site: tok.Site, Role: tok.Role,
			EnrolledAt: s.Now().UTC(), EnrollToken: tok.ID,
			Hostname: req.Hostname, Serial: req.Serial, HardwareUUID: req.HardwareUUID, MACs: req.MACs,
		}
		data, err := store.Encode(a)
		if err != nil {
			return err
		}
		key := s.Store.Key(store.KindAgents, a.ID)
		resp, err := s.Store.Client.Txn(r.Context()).
			If(cmp, clientv3.Compare(clientv3.Version(key), "=", 0)).
			Then(use, clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return fmt.Errorf("enrolling %s: %w", req.Hostname, err)
		}
		if !resp.Succeeded {
			continue // the token was used by someone else meanwhile: count again
		}
		s.Registry.Cache().Set(a.ID, a)
		s.Log.Info("agent enrolled", "agent", a.ID, "hostname", a.Hostname, "site", a.Site, "enroll_token", tok.ID)
		httpapi.WriteJSON(w, http.StatusCreated, agentapi.EnrollResponse{
			AgentID: a.ID, Credential: agentCred.String(), Site: a.Site, Role: a.Role, Policy: s.Policy,
		})
		return nil
	}
	return &httpapi.Error{Status: http.StatusServiceUnavailable, Msg: "busy", Detail: "too many agents enrolling with this token at once; retry"}
}

func validateEnroll(req *agentapi.EnrollRequest) error {
	if strings.TrimSpace(req.Hostname) == "" {
		return httpapi.BadRequest("hostname: missing")
	}
	for name, v := range map[string]string{"hostname": req.Hostname, "serial": req.Serial, "hardware_uuid": req.HardwareUUID} {
		if len(v) > 256 {
			return httpapi.BadRequest("%s: longer than 256 bytes", name)
		}
	}
	if len(req.MACs) > 64 {
		return httpapi.BadRequest("macs: %d entries, at most 64", len(req.MACs))
	}
	for _, m := range req.MACs {
		if len(m) > 64 {
			return httpapi.BadRequest("macs: entry longer than 64 bytes")
		}
	}
	return nil
}

func (s *Service) checkin(w http.ResponseWriter, r *http.Request) error {
	p, _ := auth.PrincipalFrom(r.Context())
	var req agentapi.CheckinRequest
	if err := httpapi.DecodeJSON(w, r, &req, decodeAgent); err != nil {
		return err
	}
	now := s.Now()
	var resp agentapi.CheckinResponse
	var err error
	switch req.Kind {
	case agentapi.KindReport:
		resp, err = s.storeReport(r.Context(), p.ID, req.Report, now)
	case agentapi.KindHeartbeat:
		resp, err = s.heartbeat(r.Context(), p.ID, req.Heartbeat, now)
	default:
		return httpapi.BadRequest("kind: want %q or %q, got %q", agentapi.KindReport, agentapi.KindHeartbeat, req.Kind)
	}
	if err != nil {
		return err
	}
	resp.Policy = s.Policy
	httpapi.WriteJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Service) storeReport(ctx context.Context, agentID string, rep *agentapi.Report, now time.Time) (agentapi.CheckinResponse, error) {
	if rep == nil {
		return agentapi.CheckinResponse{}, httpapi.BadRequest("report: missing for kind %q", agentapi.KindReport)
	}
	if err := rep.Validate(); err != nil {
		return agentapi.CheckinResponse{}, httpapi.BadRequest("%v", err)
	}
	seq, err := s.Reports.Store(ctx, agentID, rep, now)
	if err != nil {
		return agentapi.CheckinResponse{}, err
	}
	return agentapi.CheckinResponse{Accepted: true, Seq: seq}, nil
}

func (s *Service) heartbeat(ctx context.Context, agentID string, hb *agentapi.Heartbeat, now time.Time) (agentapi.CheckinResponse, error) {
	if hb == nil {
		return agentapi.CheckinResponse{}, httpapi.BadRequest("heartbeat: missing for kind %q", agentapi.KindHeartbeat)
	}
	if len(hb.Fingerprint) > agentapi.MaxFingerprintLn {
		return agentapi.CheckinResponse{}, httpapi.BadRequest("heartbeat.fingerprint: longer than %d", agentapi.MaxFingerprintLn)
	}
	fp, seq, err := s.Reports.Fingerprint(ctx, agentID, false)
	if err == nil && fp != hb.Fingerprint {
		// Another replica may have stored a newer report: ask etcd before
		// making the agent resend.
		fp, seq, err = s.Reports.Fingerprint(ctx, agentID, true)
	}
	if err != nil {
		return agentapi.CheckinResponse{}, err
	}
	s.LastSeen.Touch(agentID, now)
	return agentapi.CheckinResponse{Accepted: true, Seq: seq, NeedFullReport: fp == "" || fp != hb.Fingerprint}, nil
}
