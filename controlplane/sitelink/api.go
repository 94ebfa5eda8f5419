package sitelink

import (
	"net/http"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
)

// Service serves GET /api/v1/sites/links.
type Service struct {
	Links *Links
}

// Register adds the route.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("GET "+adminapi.PathSiteLinks, auth.PermFleetRead, s.list)
}

// list answers every site's link state, or one site's with ?site=.
func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	out := adminapi.SiteLinks{Sites: []adminapi.SiteLink{}}
	site := r.URL.Query().Get("site")
	for _, l := range s.Links.SiteLinks() {
		if site == "" || l.Site == site {
			out.Sites = append(out.Sites, l)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
