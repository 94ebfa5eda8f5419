package webui

import (
	"bytes"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/continuity"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/placement"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/store"
	"github.com/parc-project/parc/controlplane/units"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (u *UI) signinForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := u.newView(r, rq, "title.signin", "", map[string]string{"Next": localPath(r.URL.Query().Get("next"))})
	return u.render(w, http.StatusOK, "signin", v)
}

func (u *UI) signin(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := localPath(r.PostFormValue("next"))
	secret, sess, p, err := u.Sessions.Open(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if errors.Is(err, auth.ErrUnauthenticated) {
		v := u.newView(r, rq, "title.signin", "", map[string]string{"Next": next})
		v.Err = "signin.bad_token"
		return u.render(w, http.StatusUnauthorized, "signin", v)
	}
	if err != nil {
		return err
	}
	ctx := auth.WithPrincipal(r.Context(), p)
	if err := u.Audit.Record(ctx, audit.Entry{Action: "ui.signin", Object: "session", Detail: "web UI sign-in, session created " + sess.CreatedAt.Format(time.RFC3339)}); err != nil {
		_ = u.Sessions.Close(r.Context(), secret)
		return err
	}
	u.setSessionCookie(w, secret, int(u.Sessions.TTL/time.Second))
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := u.Sessions.Close(r.Context(), rq.secret); err != nil {
		return err
	}
	u.setSessionCookie(w, "", -1)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
	return nil
}

func (u *UI) switchLang(w http.ResponseWriter, r *http.Request, rq *request) error {
	to := r.URL.Query().Get("to")
	if !slices.Contains(Languages, to) {
		return &uiError{Status: http.StatusBadRequest, Key: "err.bad_lang"}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: u.TLS, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
	return nil
}

// siteRow is one line of the overview.
type siteRow struct {
	Site                                            string
	Units, Ready, NotReady, Unknown, Missing        int
	Stale, NeverSeen                                int
	Loaners, Available, OnLoan, Requests, Shortfall int
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request, rq *request) error {
	sum := u.Units.Summary("", rq.Lang)
	counts, total := u.Continuity.Count()
	rows := map[string]*siteRow{}
	row := func(site string) *siteRow {
		if rows[site] == nil {
			rows[site] = &siteRow{Site: site}
		}
		return rows[site]
	}
	var all siteRow
	for _, s := range sum.Sites {
		sr := row(s.Site)
		for _, rc := range s.Roles {
			sr.Units += rc.Units
			sr.Ready += rc.Ready
			sr.NotReady += rc.NotReady
			sr.Unknown += rc.Unknown
			sr.Missing += rc.Missing
			sr.Stale += rc.Stale
			sr.NeverSeen += rc.NeverSeen
		}
		all.Units, all.Ready, all.NotReady, all.Unknown = all.Units+sr.Units, all.Ready+sr.Ready, all.NotReady+sr.NotReady, all.Unknown+sr.Unknown
		all.Missing, all.Stale, all.NeverSeen = all.Missing+sr.Missing, all.Stale+sr.Stale, all.NeverSeen+sr.NeverSeen
	}
	for _, c := range counts {
		sr := row(c.Site)
		sr.Loaners, sr.Available, sr.OnLoan, sr.Requests, sr.Shortfall = c.AtSite, c.Available, c.OnLoan, c.Requests, c.Shortfall
	}
	all.Loaners, all.Available, all.OnLoan, all.Requests, all.Shortfall = total.AtSite, total.Available, total.OnLoan, total.Requests, total.Shortfall
	out := struct {
		Sites []*siteRow
		Total siteRow
	}{Total: all}
	for _, site := range slices.Sorted(maps.Keys(rows)) {
		out.Sites = append(out.Sites, rows[site])
	}
	return u.render(w, http.StatusOK, "overview", u.newView(r, rq, "title.overview", "overview", out))
}

// workPage is the size of one page of the work list.
const workPage = 200

func (u *UI) work(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	all := q.Get("all") == "1"
	f := units.Filter{NotReady: !all, Site: q.Get("site"), Role: q.Get("role"), Rule: q.Get("rule")}
	for name, v := range map[string]string{"site": f.Site, "role": f.Role, "rule": f.Rule, "after": q.Get("after")} {
		if err := httpapi.CheckString(name, v, httpapi.MaxQueryValueLen); err != nil {
			return err
		}
	}
	list, err := u.Units.List(r.Context(), f, q.Get("after"), workPage, rq.Lang)
	if err != nil {
		return err
	}
	sum := u.Units.Summary("", rq.Lang)
	var sites []string
	for _, s := range sum.Sites {
		sites = append(sites, s.Site)
	}
	type option struct{ ID, Label string }
	var rules []option
	for _, id := range slices.Sorted(maps.Keys(sum.Rules)) {
		rules = append(rules, option{id, sum.Rules[id]})
	}
	next := ""
	if list.Next != "" {
		nq := url.Values{"site": {f.Site}, "role": {f.Role}, "rule": {f.Rule}, "after": {list.Next}}
		if all {
			nq.Set("all", "1")
		}
		next = Prefix + "work?" + nq.Encode()
	}
	data := struct {
		Filter units.Filter
		All    bool
		Units  []adminapi.Unit
		Sites  []string
		Roles  []string
		Rules  []option
		Next   string
	}{f, all, list.Units, sites, inventory.Roles, rules, next}
	return u.render(w, http.StatusOK, "work", u.newView(r, rq, "title.work", "work", data))
}

func (u *UI) unit(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := store.ValidID(id); err != nil {
		return &uiError{Status: http.StatusBadRequest, Key: "err.bad_id", Detail: err.Error()}
	}
	unit, err := u.Units.Show(r.Context(), id, rq.Lang)
	if err != nil {
		return err
	}
	history, err := u.visibleLoans(r, "loans?unit="+id, loans.Filter{Unit: unit.AssetTag, List: loans.ListAll})
	if err != nil {
		return err
	}
	if unit.AssetTag == "" {
		history = nil
	}
	_, lent := u.Loans.OpenLoan(unit.AssetTag)
	data := struct {
		Unit       adminapi.Unit
		Loans      []adminapi.Loan
		CanLend    bool
		Today      string
		DefaultDue string
	}{unit, history, unit.Role == inventory.RoleLoaner && !lent && unit.Readiness == string(readiness.Ready),
		u.Now().Format(time.DateOnly), u.Now().AddDate(0, 1, 0).Format(time.DateOnly)}
	return u.render(w, http.StatusOK, "unit", u.newView(r, rq, "title.unit", "work", data))
}

// visibleLoans lists loans as the caller may see them, recording in the
// audit log, before they are shown, that borrower ids were read.
func (u *UI) visibleLoans(r *http.Request, object string, f loans.Filter) ([]adminapi.Loan, error) {
	list, err := u.Loans.List(f)
	if err != nil {
		return nil, err
	}
	if err := loans.RecordRead(r.Context(), u.Audit, "web UI "+object, list); err != nil {
		return nil, err
	}
	return loans.View(r.Context(), list), nil
}

// loanLists are the lists the loans page offers.
var loanLists = []string{loans.ListOpen, loans.ListActive, loans.ListDueSoon, loans.ListOverdue, loans.ListRecover, loans.ListClosed, loans.ListAll}

// loansData is the loans page.
type loansData struct {
	List, Site string
	Lists      []string
	Sites      []string
	Loans      []adminapi.Loan
	// Available are the loaners ready to lend, for the check-out form.
	Available []adminapi.TriggerUnit
	Form      adminapi.CheckoutRequest
	Today     string
	Done, Ref string
}

func (u *UI) loansData(r *http.Request, list, site string) (*loansData, error) {
	if list == "" {
		list = loans.ListOpen
	}
	if !slices.Contains(loanLists, list) {
		return nil, &uiError{Status: http.StatusBadRequest, Key: "err.bad_list"}
	}
	if err := httpapi.CheckString("site", site, httpapi.MaxQueryValueLen); err != nil {
		return nil, err
	}
	shown, err := u.visibleLoans(r, "loans?list="+list+"&site="+site, loans.Filter{List: list, Site: site, DueWithin: 7})
	if err != nil {
		return nil, err
	}
	trig, err := u.Continuity.Trigger(r.Context(), site)
	if err != nil {
		return nil, err
	}
	d := &loansData{List: list, Site: site, Lists: loanLists, Loans: shown, Today: u.Now().Format(time.DateOnly),
		Form: adminapi.CheckoutRequest{BorrowerType: adminapi.BorrowerStudent, Due: u.Now().AddDate(0, 1, 0).Format(time.DateOnly)}}
	for _, s := range trig.Sites {
		d.Available = append(d.Available, s.Units...)
	}
	u.Inventory.Sites.Range(func(id string, _ inventory.Site) bool { d.Sites = append(d.Sites, id); return true })
	slices.Sort(d.Sites)
	return d, nil
}

func (u *UI) loans(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	d, err := u.loansData(r, q.Get("list"), q.Get("site"))
	if err != nil {
		return err
	}
	if done := q.Get("done"); done == "checkout" || done == "change" {
		d.Done, d.Ref = done, q.Get("ref")
	}
	v := u.newView(r, rq, "title.loans", "loans", d)
	if d.Done != "" {
		v.Flash = "loans.done_" + d.Done
	}
	return u.render(w, http.StatusOK, "loans", v)
}

// loanError shows a refused check-out or change on the loans page, with
// the form as it was filled in.
func (u *UI) loanError(w http.ResponseWriter, r *http.Request, rq *request, form adminapi.CheckoutRequest, err error) error {
	var ie *loans.InputError
	key, status := "", http.StatusConflict
	switch {
	case errors.Is(err, loans.ErrAlreadyLent):
		key = "loans.err_lent"
	case errors.Is(err, loans.ErrNotReady):
		key = "loans.err_not_ready"
	case errors.As(err, &ie):
		key, status = "loans.err_invalid", http.StatusUnprocessableEntity
	case errors.Is(err, store.ErrNotFound):
		key, status = "loans.err_not_found", http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		key = "loans.err_changed"
	default:
		return err
	}
	d, derr := u.loansData(r, "", "")
	if derr != nil {
		return derr
	}
	if form.Unit != "" || form.Borrower != "" {
		d.Form = form
	}
	v := u.newView(r, rq, "title.loans", "loans", d)
	v.Here = Prefix + "loans"
	v.Err, v.ErrDetail = key, err.Error()
	return u.render(w, status, "loans", v)
}

func (u *UI) checkout(w http.ResponseWriter, r *http.Request, rq *request) error {
	req := adminapi.CheckoutRequest{Unit: strings.TrimSpace(r.PostFormValue("unit")), Borrower: strings.TrimSpace(r.PostFormValue("borrower")),
		BorrowerType: r.PostFormValue("borrower_type"), Due: r.PostFormValue("due"), FormSigned: r.PostFormValue("form_signed") != "",
		FormRef: strings.TrimSpace(r.PostFormValue("form_ref")), Force: r.PostFormValue("force") != "", Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	l, err := u.Loans.Checkout(r.Context(), req, rq.P.Actor())
	if err != nil {
		return u.loanError(w, r, rq, req, err)
	}
	http.Redirect(w, r, Prefix+"loans?done=checkout&ref="+url.QueryEscape(l.Unit), http.StatusSeeOther)
	return nil
}

func (u *UI) change(w http.ResponseWriter, r *http.Request, rq *request) error {
	ref := strings.TrimSpace(r.PostFormValue("ref"))
	l, err := u.Loans.Change(r.Context(), ref, adminapi.LoanAction{Action: r.PostFormValue("action"), Note: strings.TrimSpace(r.PostFormValue("note"))}, rq.P.Actor())
	if err != nil {
		return u.loanError(w, r, rq, adminapi.CheckoutRequest{}, err)
	}
	http.Redirect(w, r, Prefix+"loans?done=change&ref="+url.QueryEscape(l.Unit), http.StatusSeeOther)
	return nil
}

func (u *UI) places(w http.ResponseWriter, r *http.Request, rq *request) error {
	site := r.URL.Query().Get("site")
	if err := httpapi.CheckString("site", site, httpapi.MaxQueryValueLen); err != nil {
		return err
	}
	var carts []adminapi.CartStatus
	var ids []string
	u.Inventory.Carts.Range(func(id string, c inventory.Cart) bool {
		if site == "" || c.Site == site {
			ids = append(ids, id)
		}
		return true
	})
	slices.Sort(ids)
	for _, id := range ids {
		cs, err := u.Placement.CartStatus(r.Context(), id, placement.DefaultChargeThreshold)
		if err != nil {
			return err
		}
		carts = append(carts, cs)
	}
	type classroom struct {
		ID, Site string
		PCs      []string
	}
	var rooms []classroom
	pcs := map[string][]string{}
	u.Inventory.Units.Range(func(tag string, un inventory.Unit) bool {
		if un.Classroom != "" {
			pcs[un.Classroom] = append(pcs[un.Classroom], tag)
		}
		return true
	})
	u.Inventory.Classrooms.Range(func(id string, c inventory.Classroom) bool {
		if site == "" || c.Site == site {
			slices.Sort(pcs[id])
			rooms = append(rooms, classroom{id, c.Site, pcs[id]})
		}
		return true
	})
	slices.SortFunc(rooms, func(a, b classroom) int { return strings.Compare(a.Site+"/"+a.ID, b.Site+"/"+b.ID) })
	var sites []string
	u.Inventory.Sites.Range(func(id string, _ inventory.Site) bool { sites = append(sites, id); return true })
	slices.Sort(sites)
	data := struct {
		Site       string
		Sites      []string
		Carts      []adminapi.CartStatus
		Classrooms []classroom
		Report     adminapi.ClassroomsReport
	}{site, sites, carts, rooms, u.Placement.Classrooms(site)}
	return u.render(w, http.StatusOK, "places", u.newView(r, rq, "title.places", "places", data))
}

func (u *UI) continuity(w http.ResponseWriter, r *http.Request, rq *request) error {
	trig, err := u.Continuity.Trigger(r.Context(), "")
	if err != nil {
		return err
	}
	data := struct {
		Trigger    adminapi.Trigger
		Arithmetic string
	}{trig, continuity.Arithmetic[rq.Lang]}
	return u.render(w, http.StatusOK, "continuity", u.newView(r, rq, "title.continuity", "continuity", data))
}

func (u *UI) importForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return u.render(w, http.StatusOK, "import", u.newView(r, rq, "title.import", "import", &importData{}))
}

// importData is the import page: the form, a dry run's preview with the
// file to confirm, or the result.
type importData struct {
	CSV    string
	Result *inventory.ImportResult
	Done   bool
}

// importFile reads the uploaded file, or the pasted text.
func importFile(r *http.Request) (string, error) {
	if f, _, err := r.FormFile("file"); err == nil {
		defer f.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(f); err != nil {
			return "", err
		}
		if buf.Len() > 0 {
			return buf.String(), nil
		}
	}
	return r.PostFormValue("csv"), nil
}

func (u *UI) runImport(w http.ResponseWriter, r *http.Request, rq *request, dryRun bool) error {
	csv, err := importFile(r)
	if err != nil {
		return &uiError{Status: http.StatusBadRequest, Key: "err.bad_form", Detail: err.Error()}
	}
	v := u.newView(r, rq, "title.import", "import", nil)
	v.Here = Prefix + "import"
	if strings.TrimSpace(csv) == "" {
		v.Data, v.Err = &importData{}, "import.empty"
		return u.render(w, http.StatusUnprocessableEntity, "import", v)
	}
	res, err := u.Inventory.Import(r.Context(), strings.NewReader(csv), inventory.ImportOptions{DryRun: dryRun, By: rq.P.Actor()})
	var fe *inventory.FileError
	switch {
	case errors.As(err, &fe):
		v.Data, v.Err, v.ErrDetail = &importData{CSV: csv}, "import.bad_file", err.Error()
		return u.render(w, http.StatusUnprocessableEntity, "import", v)
	case errors.Is(err, inventory.ErrImportInProgress):
		v.Data, v.Err = &importData{CSV: csv}, "import.busy"
		return u.render(w, http.StatusConflict, "import", v)
	case err != nil:
		return err
	}
	d := &importData{CSV: csv, Result: &res, Done: !dryRun && len(res.Errors) == 0}
	v.Data = d
	status := http.StatusOK
	if len(res.Errors) > 0 {
		status, v.Err = http.StatusUnprocessableEntity, "import.has_errors"
	} else if d.Done {
		v.Flash = "import.done"
		u.Log.Info("inventory imported from the web UI", "by", rq.P.Actor(), "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	}
	return u.render(w, status, "import", v)
}

func (u *UI) importPreview(w http.ResponseWriter, r *http.Request, rq *request) error {
	return u.runImport(w, r, rq, true)
}

func (u *UI) importConfirm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return u.runImport(w, r, rq, false)
}
