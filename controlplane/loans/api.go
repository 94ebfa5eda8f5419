package loans

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/sheet"
	"github.com/parc-project/parc/controlplane/store"
)

// Service serves loans and the borrowers' privacy rights.
type Service struct {
	Book  *Book
	Audit *audit.Log
	Log   *slog.Logger
}

// Register adds the routes.
func (s *Service) Register(rt *httpapi.Router) {
	rt.User("POST "+adminapi.PathLoans, auth.PermLoansWrite, s.checkout)
	rt.User("GET "+adminapi.PathLoans, auth.PermLoansRead, s.list)
	rt.User("GET "+adminapi.PathLoans+"/{id}", auth.PermLoansRead, s.show)
	rt.User("POST "+adminapi.PathLoans+"/{ref}/actions", auth.PermLoansWrite, s.act)
	rt.User("POST "+adminapi.PathLoansBulk, auth.PermLoansWrite, s.bulk)
	rt.User("GET "+adminapi.PathExportLoans, auth.PermLoansRead, s.export)
	rt.User("GET "+adminapi.PathPrivacyBorrowers+"/{id}", auth.PermBorrowersRead, s.privacyExport)
	rt.User("POST "+adminapi.PathPrivacyBorrowers+"/{id}/erase", auth.PermBorrowersErase, s.privacyErase)
}

// apiError maps the book's errors to answers.
func apiError(err error) error {
	var ie *InputError
	var fe *sheet.FileError
	switch {
	case errors.As(err, &ie):
		return httpapi.Errorf(http.StatusUnprocessableEntity, "invalid", "%s", ie.Msg)
	case errors.As(err, &fe):
		return httpapi.BadRequest("%s", fe.Msg)
	case errors.Is(err, ErrAlreadyLent):
		return httpapi.Conflict("%v", err)
	case errors.Is(err, ErrNotReady):
		return httpapi.Conflict("%v", err)
	case errors.Is(err, store.ErrNotFound):
		return httpapi.NotFound("%v", err)
	}
	return err
}

func actor(r *http.Request) string {
	p, _ := auth.PrincipalFrom(r.Context())
	return p.Actor()
}

func (s *Service) checkout(w http.ResponseWriter, r *http.Request) error {
	var req adminapi.CheckoutRequest
	if err := httpapi.DecodeJSON(w, r, &req, httpapi.AdminJSON); err != nil {
		return err
	}
	l, err := s.Book.Checkout(r.Context(), req, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.WriteJSON(w, http.StatusCreated, l)
	return nil
}

func (s *Service) act(w http.ResponseWriter, r *http.Request) error {
	var act adminapi.LoanAction
	if err := httpapi.DecodeJSON(w, r, &act, httpapi.AdminJSON); err != nil {
		return err
	}
	l, err := s.Book.Change(r.Context(), r.PathValue("ref"), act, actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.WriteJSON(w, http.StatusOK, s.view(r, []Loan{l})[0])
	return nil
}

// view redacts borrower ids for those who may not see them; for the
// others it records, before answering, that they read them.
func (s *Service) view(r *http.Request, loans []Loan) []Loan { return View(r.Context(), loans) }

// View returns loans as ctx's principal may see them: without borrower ids
// and form references unless its role may read borrowers.
func View(ctx context.Context, loans []Loan) []Loan {
	p, _ := auth.PrincipalFrom(ctx)
	if p.Allows(auth.PermBorrowersRead) {
		return loans
	}
	out := make([]Loan, len(loans))
	for i, l := range loans {
		l.Borrower, l.FormRef = "", ""
		out[i] = l
	}
	return out
}

// recordRead writes the audit entry of a read that shows borrower ids.
func (s *Service) recordRead(r *http.Request, object string, loans []Loan) error {
	return RecordRead(r.Context(), s.Audit, object, loans)
}

// RecordRead writes the audit entry of a read by ctx's principal that
// shows borrower ids (nothing when its role sees none, or there are none).
// Call it before showing the loans; on error, show an error instead.
func RecordRead(ctx context.Context, log *audit.Log, object string, loans []Loan) error {
	p, _ := auth.PrincipalFrom(ctx)
	if !p.Allows(auth.PermBorrowersRead) {
		return nil
	}
	n := 0
	for _, l := range loans {
		if l.Borrower != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return log.RecordRead(ctx, object, fmt.Sprintf("%d loans with borrower ids", n))
}

func (s *Service) filter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{List: q.Get("list"), Site: q.Get("site"), Unit: q.Get("unit"), Borrower: q.Get("borrower")}
	for name, v := range map[string]string{"list": f.List, "site": f.Site, "unit": f.Unit, "borrower": f.Borrower} {
		if err := httpapi.CheckString(name, v, httpapi.MaxQueryValueLen); err != nil {
			return f, err
		}
	}
	if f.Borrower != "" {
		if p, _ := auth.PrincipalFrom(r.Context()); !p.Allows(auth.PermBorrowersRead) {
			return f, httpapi.Errorf(http.StatusForbidden, "forbidden", "role %s may not look loans up by borrower", p.Role)
		}
	}
	if v := q.Get("due_within"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 365 {
			return f, httpapi.BadRequest("due_within: want 1 to 365 days, got %.16q", v)
		}
		f.DueWithin = n
	} else {
		f.DueWithin = 7
	}
	return f, nil
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	f, err := s.filter(r)
	if err != nil {
		return err
	}
	loans, err := s.Book.List(f)
	if err != nil {
		return apiError(err)
	}
	if err := s.recordRead(r, "loans?"+r.URL.RawQuery, loans); err != nil {
		return err
	}
	out := adminapi.LoanList{Loans: s.view(r, loans)}
	if out.Loans == nil {
		out.Loans = []Loan{}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) show(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := store.ValidID(id); err != nil {
		return httpapi.BadRequest("loan id: %v", err)
	}
	l, ok := s.Book.Loans.Get(id)
	if !ok {
		return httpapi.NotFound("no loan %q", id)
	}
	if err := s.recordRead(r, "loan/"+id, []Loan{l}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, s.view(r, []Loan{l})[0])
	return nil
}

func (s *Service) bulk(w http.ResponseWriter, r *http.Request) error {
	checkin := r.URL.Query().Get("checkin") == "true"
	res, err := s.Book.Bulk(r.Context(), http.MaxBytesReader(w, r.Body, bulkFormat.MaxBytes), checkin, actor(r))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "file too large", "a bulk file may hold %d KiB", bulkFormat.MaxBytes>>10)
		}
		return apiError(err)
	}
	res.Loans = s.view(r, res.Loans)
	status := http.StatusOK
	if len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	httpapi.WriteJSON(w, status, res)
	return nil
}

// registerHeader is the loan register's columns, per language.
var registerHeader = map[string][]string{
	"en": {"loan", "unit", "site", "borrower", "borrower_type", "out", "due", "form_signed", "form_ref", "state", "closed", "condition", "forced_reason"},
	"fr": {"prêt", "numéro d'inventaire", "établissement", "emprunteur", "type", "sorti le", "retour prévu", "formulaire signé", "référence formulaire", "état", "clos le", "état au retour", "motif de forçage"},
}

func (s *Service) export(w http.ResponseWriter, r *http.Request) error {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "en"
	}
	header, ok := registerHeader[lang]
	if !ok {
		return httpapi.BadRequest("lang: want en or fr, got %.16q", lang)
	}
	f, err := s.filter(r)
	if err != nil {
		return err
	}
	loans, err := s.Book.List(f)
	if err != nil {
		return apiError(err)
	}
	if err := s.recordRead(r, "loans register", loans); err != nil {
		return err
	}
	loans = s.view(r, loans)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="loans.csv"`)
	return writeRegister(w, loans, header, lang)
}

func writeRegister(w io.Writer, loans []Loan, header []string, lang string) error {
	cw := csv.NewWriter(w)
	yes, no := "yes", "no"
	if lang == "fr" {
		cw.Comma = ';'
		yes, no = "oui", "non"
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, l := range loans {
		signed := no
		if l.FormSigned {
			signed = yes
		}
		closed := ""
		if l.ClosedAt != nil {
			closed = l.ClosedAt.Format(time.DateOnly)
		}
		rec := []string{l.ID, l.Unit, l.Site, l.Borrower, l.BorrowerType, l.OutAt.Format(time.DateOnly), l.Due, signed, l.FormRef,
			l.State, closed, l.Condition, l.ForceReason}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (s *Service) privacyExport(w http.ResponseWriter, r *http.Request) error {
	borrower := r.PathValue("id")
	loans, err := s.Book.BorrowerLoans(borrower)
	if err != nil {
		return apiError(err)
	}
	if err := s.Audit.RecordRead(r.Context(), "borrower/"+borrower, fmt.Sprintf("privacy export: %d loans", len(loans))); err != nil {
		return err
	}
	if loans == nil {
		loans = []Loan{}
	}
	httpapi.WriteJSON(w, http.StatusOK, adminapi.LoanList{Loans: loans})
	return nil
}

func (s *Service) privacyErase(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Book.Erase(r.Context(), r.PathValue("id"), actor(r))
	if err != nil {
		return apiError(err)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]int{"anonymised": n})
	return nil
}
