package cluster

import (
	"errors"
	"net/http"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
)

// Service serves the cluster's state to technicians and its membership to
// administrators.
type Service struct {
	Cluster *Cluster
	Audit   *audit.Log
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathCluster, auth.PermClusterRead, s.status)
	rt.User("POST "+adminapi.PathClusterMembers, auth.PermClusterAdmin, s.add)
	rt.User("DELETE "+adminapi.PathClusterMembers+"/{name}", auth.PermClusterAdmin, s.remove)
}

// maxRequestBytes bounds a member add request (a name and a URL).
const maxRequestBytes = 4 << 10

func (s *Service) status(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Cluster.Status(r.Context())
	if err != nil {
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Msg: "cluster state unavailable", Detail: err.Error()}
	}
	httpapi.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (s *Service) add(w http.ResponseWriter, r *http.Request) error {
	var req adminapi.MemberAddRequest
	if err := httpapi.DecodeJSON(w, r, &req, httpapi.DecodeOptions{MaxBytes: maxRequestBytes, Strict: true}); err != nil {
		return err
	}
	added, err := s.Cluster.Add(r.Context(), req)
	if err != nil {
		return answer(err)
	}
	if err := s.Audit.Record(r.Context(), audit.Entry{Action: "cluster.member-add", Object: "etcd-member/" + req.Name,
		Detail: "peer URL " + req.PeerURL, After: audit.Snapshot(added.Member)}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, added)
	return nil
}

func (s *Service) remove(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := httpapi.CheckString("name", name, 64); err != nil {
		return err
	}
	removed, err := s.Cluster.Remove(r.Context(), name)
	if err != nil {
		return answer(err)
	}
	if err := s.Audit.Record(r.Context(), audit.Entry{Action: "cluster.member-remove", Object: "etcd-member/" + removed.Name,
		Before: audit.Snapshot(removed)}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, removed)
	return nil
}

func answer(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrInvalid):
		return httpapi.BadRequest("%v", err)
	case errors.Is(err, ErrUnhealthy):
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Msg: "cluster not ready for a membership change", Detail: err.Error()}
	case errors.Is(err, ErrExternal):
		return httpapi.Conflict("%v", err)
	}
	return err
}
