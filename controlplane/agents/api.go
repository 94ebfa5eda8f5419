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
	"github.com/parc-project/parc/controlplane/audit"
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
	Audit        *audit.Log
	Policy       agentapi.Policy
	// CABundle is the PEM bundle agents pin; nil without TLS.
	CABundle []byte
	Now      func() time.Time
	Log      *slog.Logger
	// Observer, when set, learns of every check-in (metrics).
	Observer CheckinObserver

	enrollGroups enrollGroups
}

// CheckinObserver learns the kind, result and handling time of every
// check-in. It is called on the agents' hot path: it must be cheap.
type CheckinObserver interface {
	Checkin(kind, result string, d time.Duration)
}

// Results of a check-in, as CheckinObserver learns them.
const (
	CheckinAccepted  = "accepted"  // a new report stored, or a heartbeat whose fingerprint matches
	CheckinDuplicate = "duplicate" // a report already stored (a redelivery from the spool)
	CheckinResend    = "resend"    // a heartbeat whose fingerprint differs: the agent must send its report
	CheckinRejected  = "rejected"  // a body that does not decode or validate
	CheckinError     = "error"     // the server failed (etcd)
)

// CheckinInvalid is the kind of a check-in whose body did not decode.
const CheckinInvalid = "invalid"

// Register adds the agent API routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.Public("GET "+agentapi.PathCA, s.ca)
	rt.Public("POST "+agentapi.PathEnroll, s.enroll)
	rt.Agent("POST "+agentapi.PathCheckin, s.checkin)
	rt.Agent("POST "+agentapi.PathCredentialRotate, s.rotate)
	// Confirm authenticates with the rotated credential, which the
	// router's agent authentication does not accept yet: it checks it
	// itself, like enrollment checks its token.
	rt.Public("POST "+agentapi.PathCredentialConfirm, s.confirm)
}

// ca serves the CA bundle. It is public and unauthenticated on purpose: an
// agent fetches it before it trusts anything, and pins it only if its hash
// is the one its enroll token carries.
func (s *Service) ca(w http.ResponseWriter, r *http.Request) error {
	if s.CABundle == nil {
		return httpapi.NotFound("this server runs without TLS (--insecure-http): there is no CA to pin")
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(s.CABundle)
	return err
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
	// The agent sends the credential part; a whole token with its CA hash
	// is accepted too (the hash served its purpose on the agent's side).
	cred, err := parseEnrollCredential(req.Token)
	if err != nil {
		return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: "token: not a parc enroll token (pe_...)"}
	}
	res := s.enrollGroups.join(cred, req, s.enrollBatch)
	select {
	case out := <-res:
		if out.err != nil {
			return out.err
		}
		httpapi.WriteJSON(w, http.StatusCreated, out.resp)
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

// enrollBatch enrols the agents of calls, which all redeem the enroll
// token cred, in one transaction: the token's use count, each agent and
// its audit entry. It answers every call.
func (s *Service) enrollBatch(ctx context.Context, cred auth.Credential, calls []*enrollCall) {
	for range enrollAttempts {
		tok, granted, cmp, use, err := s.EnrollTokens.RedeemN(ctx, cred, len(calls))
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			answerAll(calls, enrollResult{err: &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: "unknown enroll token"}})
			return
		case errors.Is(err, auth.ErrTokenExpired), errors.Is(err, auth.ErrTokenUsedUp), errors.Is(err, auth.ErrTokenRevoked):
			answerAll(calls, enrollResult{err: &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: err.Error()}})
			return
		case err != nil:
			answerAll(calls, enrollResult{err: err})
			return
		}
		cmps := []clientv3.Cmp{cmp}
		ops := []clientv3.Op{use}
		results := make([]enrollResult, granted)
		agents := make([]Agent, granted)
		for i, call := range calls[:granted] {
			req := call.req
			agentCred, hash := auth.NewCredential(auth.KindAgent)
			a := Agent{
				ID: agentCred.ID, Hash: hash, Site: tok.Site, Role: tok.Role,
				EnrolledAt: s.Now().UTC(), EnrollToken: tok.ID, ExpiresAt: s.Registry.NewCredentialExpiry(),
				Hostname: req.Hostname, Serial: req.Serial, HardwareUUID: req.HardwareUUID, MACs: req.MACs,
			}
			data, err := store.Encode(a)
			if err != nil {
				answerAll(calls, enrollResult{err: err})
				return
			}
			trace, err := s.Audit.Op(ctx, audit.Entry{Actor: "enroll-token:" + tok.ID, Action: audit.ActionAgentEnroll,
				Object: "agent/" + a.ID, Site: a.Site, After: audit.Snapshot(CredentialView(a))})
			if err != nil {
				answerAll(calls, enrollResult{err: err})
				return
			}
			key := s.Store.Key(store.KindAgents, a.ID)
			cmps = append(cmps, clientv3.Compare(clientv3.Version(key), "=", 0))
			ops = append(ops, clientv3.OpPut(key, string(data)), trace)
			agents[i] = a
			results[i] = enrollResult{resp: agentapi.EnrollResponse{
				AgentID: a.ID, Credential: agentCred.String(), Site: a.Site, Role: a.Role, Policy: s.Policy,
				CredentialExpiresAt: a.ExpiresAt,
			}}
		}
		resp, err := s.Store.Client.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			answerAll(calls, enrollResult{err: fmt.Errorf("enrolling %d agents with enroll token %s: %w", granted, tok.ID, err)})
			return
		}
		if !resp.Succeeded {
			continue // the token was used by someone else meanwhile: count again
		}
		for i, a := range agents {
			s.Registry.Cache().Set(a.ID, a)
			s.Log.Info("agent enrolled", "agent", a.ID, "hostname", a.Hostname, "site", a.Site, "enroll_token", tok.ID)
			calls[i].done <- results[i]
		}
		// The token ran out part-way through the group.
		answerAll(calls[granted:], enrollResult{err: &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized",
			Detail: fmt.Sprintf("%v (%d of %d used)", auth.ErrTokenUsedUp, tok.Uses, tok.MaxUses)}})
		return
	}
	answerAll(calls, enrollResult{err: &httpapi.Error{Status: http.StatusServiceUnavailable, Msg: "busy",
		Detail: "too many agents enrolling with this token at once; retry"}})
}

// parseEnrollCredential reads the credential of an enroll token, given
// alone or with its CA hash.
func parseEnrollCredential(token string) (auth.Credential, error) {
	tok, err := agentapi.ParseEnrollToken(token)
	if err != nil {
		return auth.Credential{}, err
	}
	cred, err := auth.ParseCredential(tok.Credential)
	if err != nil || cred.Kind != auth.KindEnroll {
		return auth.Credential{}, auth.ErrMalformed
	}
	return cred, nil
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
	if s.Observer == nil {
		_, _, err := s.handleCheckin(w, r)
		return err
	}
	start := time.Now()
	kind, result, err := s.handleCheckin(w, r)
	s.Observer.Checkin(kind, result, time.Since(start))
	return err
}

// handleCheckin answers a check-in and says its kind and result.
func (s *Service) handleCheckin(w http.ResponseWriter, r *http.Request) (kind, result string, err error) {
	p, _ := auth.PrincipalFrom(r.Context())
	req, err := decodeCheckin(w, r)
	if err != nil {
		return CheckinInvalid, CheckinRejected, err
	}
	// The unit is the one the credential names, p.ID: nothing in the body
	// (which has no agent id; unknown fields are dropped) can name another.
	now := s.Now()
	var resp agentapi.CheckinResponse
	result = CheckinAccepted
	if req.Kind == agentapi.KindReport {
		resp, err = s.storeReport(r.Context(), p.ID, req.Report, now)
		if err == nil && resp.Seq != req.Report.Seq {
			result = CheckinDuplicate
		}
	} else {
		resp, err = s.heartbeat(r.Context(), p.ID, req.Heartbeat, now)
		if resp.NeedFullReport {
			result = CheckinResend
		}
	}
	if err != nil {
		return req.Kind, CheckinError, err
	}
	resp.Policy = s.Policy
	if a, ok := s.Registry.Cache().Get(p.ID); ok {
		resp.CredentialExpiresAt = a.ExpiresAt
		resp.RotateCredential = s.Registry.RotationDue(a)
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
	return req.Kind, result, nil
}

// decodeCheckin reads and checks a check-in body: bounded, UTF-8, one
// JSON value, unknown fields dropped, then agentapi's bounds. Errors are
// *httpapi.Error.
func decodeCheckin(w http.ResponseWriter, r *http.Request) (agentapi.CheckinRequest, error) {
	var req agentapi.CheckinRequest
	if err := httpapi.DecodeJSON(w, r, &req, decodeAgent); err != nil {
		return req, err
	}
	if err := req.Validate(); err != nil {
		return req, httpapi.BadRequest("%v", err)
	}
	return req, nil
}

// rotate gives the calling agent a new credential; its current one stays
// valid until the agent confirms the new one.
func (s *Service) rotate(w http.ResponseWriter, r *http.Request) error {
	p, _ := auth.PrincipalFrom(r.Context())
	cred, expires, err := s.Registry.Rotate(r.Context(), p.ID)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: err.Error()}
	}
	if err != nil {
		return err
	}
	s.Log.Info("agent credential rotated, awaiting confirmation", "agent", p.ID)
	httpapi.WriteJSON(w, http.StatusOK, agentapi.CredentialResponse{Credential: cred.String(), ExpiresAt: expires})
	return nil
}

// confirm makes the rotated credential the bearer presents the agent's
// only one.
func (s *Service) confirm(w http.ResponseWriter, r *http.Request) error {
	cred, ok := auth.BearerCredential(r)
	if !ok || cred.Kind != auth.KindAgent {
		return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: auth.ErrUnauthenticated.Error()}
	}
	expires, err := s.Registry.Confirm(r.Context(), cred)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return &httpapi.Error{Status: http.StatusUnauthorized, Msg: "unauthorized", Detail: err.Error()}
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, agentapi.CredentialResponse{ExpiresAt: expires})
	return nil
}

func (s *Service) storeReport(ctx context.Context, agentID string, rep *agentapi.Report, now time.Time) (agentapi.CheckinResponse, error) {
	seq, err := s.Reports.Store(ctx, agentID, rep, now)
	if err != nil {
		return agentapi.CheckinResponse{}, err
	}
	return agentapi.CheckinResponse{Accepted: true, Seq: seq}, nil
}

func (s *Service) heartbeat(ctx context.Context, agentID string, hb *agentapi.Heartbeat, now time.Time) (agentapi.CheckinResponse, error) {
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
