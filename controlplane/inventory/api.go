package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves the declared inventory's admin API.
type Service struct {
	Inventory *Inventory
	Log       *slog.Logger
}

var decodeAdmin = httpapi.AdminJSON

// Register adds the routes. Reading the reconciled units is the units
// package's; declaring, changing and deleting them is here.
func (s *Service) Register(rt *httpapi.Router) {
	registerCRUD(rt, s, adminapi.PathSites, "site", s.Inventory.Sites.Range,
		func(v Site) string { return v.ID }, s.Inventory.PutSite)
	registerCRUD(rt, s, adminapi.PathClassrooms, "classroom", s.Inventory.Classrooms.Range,
		func(v Classroom) string { return v.ID }, s.Inventory.PutClassroom)
	registerCRUD(rt, s, adminapi.PathCarts, "cart", s.Inventory.Carts.Range,
		func(v Cart) string { return v.ID }, s.Inventory.PutCart)
	rt.User("POST "+adminapi.PathUnits, auth.PermFleetWrite, s.declareUnit(Create))
	rt.User("PUT "+adminapi.PathUnits+"/{id}", auth.PermFleetWrite, s.declareUnit(Update))
	rt.User("DELETE "+adminapi.PathUnits+"/{id}", auth.PermFleetWrite, s.deleteOf("unit"))
	rt.User("POST "+adminapi.PathImportInventory, auth.PermFleetWrite, s.importInventory)
	rt.User("GET "+adminapi.PathExportInventory, auth.PermFleetRead, s.exportInventory)
}

// registerCRUD adds list, create, update and delete routes of one kind.
func registerCRUD[T any](rt *httpapi.Router, s *Service, path, what string,
	rangeFn func(func(string, T) bool), idOf func(T) string, put func(ctx context.Context, v T, m Mode) error) {
	rt.User("GET "+path, auth.PermFleetRead, func(w http.ResponseWriter, r *http.Request) error {
		items := map[string]T{}
		site := r.URL.Query().Get("site")
		rangeFn(func(id string, v T) bool {
			if site == "" || siteOf(v) == site {
				items[id] = v
			}
			return true
		})
		out := make([]T, 0, len(items))
		for _, id := range slices.Sorted(maps.Keys(items)) {
			out = append(out, items[id])
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
		return nil
	})
	write := func(mode Mode) httpapi.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var v T
			if err := httpapi.DecodeJSON(w, r, &v, decodeAdmin); err != nil {
				return err
			}
			if id := r.PathValue("id"); id != "" && id != idOf(v) {
				return httpapi.BadRequest("%s id in the body (%q) differs from the URL (%q)", what, idOf(v), id)
			}
			if err := put(r.Context(), v, mode); err != nil {
				return writeError(err, what)
			}
			status := http.StatusOK
			if mode == Create {
				status = http.StatusCreated
			}
			httpapi.WriteJSON(w, status, v)
			return nil
		}
	}
	rt.User("POST "+path, auth.PermFleetWrite, write(Create))
	rt.User("PUT "+path+"/{id}", auth.PermFleetWrite, write(Update))
	rt.User("DELETE "+path+"/{id}", auth.PermFleetWrite, s.deleteOf(what))
}

func siteOf(v any) string {
	switch x := v.(type) {
	case Classroom:
		return x.Site
	case Cart:
		return x.Site
	case Site:
		return x.ID
	}
	return ""
}

func writeError(err error, what string) error {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "invalid "+what, "%s", strings.Join(ve.Problems, "; "))
	case errors.Is(err, ErrImportInProgress):
		return httpapi.Errorf(http.StatusConflict, "import in progress", "%v; retry when it is done", err)
	}
	return err
}

func (s *Service) declareUnit(mode Mode) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var u Unit
		if err := httpapi.DecodeJSON(w, r, &u, decodeAdmin); err != nil {
			return err
		}
		if id := r.PathValue("id"); id != "" && id != u.AssetTag {
			return httpapi.BadRequest("asset tag in the body (%q) differs from the URL (%q)", u.AssetTag, id)
		}
		if err := s.Inventory.PutUnit(r.Context(), u, mode); err != nil {
			return writeError(err, "unit")
		}
		status := http.StatusOK
		if mode == Create {
			status = http.StatusCreated
		}
		httpapi.WriteJSON(w, status, u)
		return nil
	}
}

func (s *Service) deleteOf(what string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if err := store.ValidID(id); err != nil {
			return httpapi.BadRequest("%s id: %v", what, err)
		}
		if err := s.Inventory.Delete(r.Context(), what, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return httpapi.NotFound("no %s %q", what, id)
			}
			return writeError(err, what)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Service) importInventory(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	dryRun := q.Get("dry_run") == "true" || q.Get("dry_run") == "1"
	streaming := q.Get("progress") == "true" || q.Get("progress") == "1"
	p, _ := auth.PrincipalFrom(r.Context())
	// Read the whole file before answering: once a response has begun, an
	// HTTP/1 server may no longer read the request body.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxImportBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "file too large", "an inventory file may hold %d MiB", MaxImportBytes>>20)
		}
		return httpapi.BadRequest("reading the file: %v", err)
	}
	opt := ImportOptions{DryRun: dryRun, By: p.Actor()}

	var enc *json.Encoder
	if streaming {
		// Newline-delimited JSON: progress lines, then the result line.
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		enc = json.NewEncoder(w)
		flusher, _ := w.(http.Flusher)
		last := Progress{}
		opt.Progress = func(pr Progress) {
			if pr.Phase == last.Phase && pr.Done-last.Done < max(pr.Total/50, 1) {
				return // about 50 lines per phase at most
			}
			last = pr
			_ = enc.Encode(map[string]Progress{"progress": pr})
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	res, err := s.Inventory.Import(r.Context(), bytes.NewReader(data), opt)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			err = httpapi.BadRequest("%v", err)
		} else {
			err = writeError(err, "import")
		}
		if streaming {
			var he *httpapi.Error
			if !errors.As(err, &he) {
				s.Log.Error("import failed", "err", err)
				he = &httpapi.Error{Status: http.StatusInternalServerError, Msg: "internal error", Detail: err.Error()}
			}
			_ = enc.Encode(map[string]any{"error": he.Msg, "detail": he.Detail, "status": he.Status})
			return nil
		}
		return err
	}
	if !dryRun && len(res.Errors) == 0 {
		s.Log.Info("inventory imported", "by", p.Actor(), "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	}
	if streaming {
		_ = enc.Encode(map[string]ImportResult{"result": res})
		return nil
	}
	status := http.StatusOK
	if len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	httpapi.WriteJSON(w, status, res)
	return nil
}

func (s *Service) exportInventory(w http.ResponseWriter, r *http.Request) error {
	lang := r.URL.Query().Get("lang")
	if lang != "" && lang != "en" && lang != "fr" {
		return httpapi.BadRequest("lang: want en or fr, got %q", lang)
	}
	snap, err := s.Inventory.Snapshot(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "inventory.csv"))
	return WriteCSV(w, snap, lang)
}
