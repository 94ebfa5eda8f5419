package audit

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
)

// Service serves the audit log to administrators.
type Service struct {
	Log *Log
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathAudit, auth.PermAuditRead, s.list)
}

// Page sizes of the audit list.
const (
	defaultPage = 500
	maxPage     = 5000
)

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := Filter{Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object"), After: q.Get("after"), Limit: defaultPage}
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "object": f.Object, "after": f.After} {
		if err := httpapi.CheckString(name, v, httpapi.MaxQueryValueLen); err != nil {
			return err
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return httpapi.BadRequest("limit: want 1 to %d, got %.32q", maxPage, v)
		}
		f.Limit = n
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return httpapi.BadRequest("%s: want an RFC 3339 time such as 2026-09-01T00:00:00Z, got %.64q", name, v)
			}
			*dst = t
		}
	}
	entries, next, err := s.Log.List(r.Context(), f)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []Entry{}
	}
	httpapi.WriteJSON(w, http.StatusOK, adminapi.AuditList{Entries: entries, Next: next})
	return nil
}
