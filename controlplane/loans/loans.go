// Package loans records who has which loaner: check-out to a borrower
// (an opaque student or staff number), check-in, lost, abandoned (the
// student left: recover the unit), recovered; the register; and the
// borrower's rights (export, erasure, anonymisation after the retention
// period). Every change is one etcd transaction carrying its audit entry.
package loans

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/store"
)

// Loan is a loan as stored; its wire form is the admin API's.
type Loan = adminapi.Loan

// Errors of a check-out that the caller can act on.
var (
	ErrAlreadyLent = errors.New("unit already lent")
	ErrNotReady    = errors.New("unit not ready")
)

// InputError is a request the caller must correct; nothing was changed.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error { return &InputError{fmt.Sprintf(format, args...)} }

// borrowerPattern accepts opaque ids (student or staff numbers), and
// refuses what looks like a name: parc keeps the least personal data.
var borrowerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Book keeps loans in etcd and a cache of all of them in memory (a
// service centre has thousands, not millions).
type Book struct {
	store     *store.Store
	inventory *inventory.Inventory
	statuses  *store.Cache[reconcile.Status]
	audit     *audit.Log
	log       *slog.Logger
	now       func() time.Time
	// Loans mirrors every loan; Active maps asset tags to the loan holding them.
	Loans  *store.Cache[Loan]
	Active *store.Cache[string]
}

// New returns the loan book; run it with Run.
func New(s *store.Store, inv *inventory.Inventory, statuses *store.Cache[reconcile.Status], a *audit.Log, log *slog.Logger, now func() time.Time) *Book {
	return &Book{store: s, inventory: inv, statuses: statuses, audit: a, log: log, now: now,
		Loans: store.NewCache[Loan](s, store.KindLoans, log),
		Active: store.NewCacheFunc(s, store.KindActiveLoans, func(_ string, data []byte) (string, error) {
			return string(data), nil
		}, log)}
}

// Run keeps the caches in step with etcd until ctx ends.
func (b *Book) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() { b.Active.Run(ctx); close(done) }()
	b.Loans.Run(ctx)
	<-done
}

// WaitReady waits for the caches' first lists.
func (b *Book) WaitReady(ctx context.Context) error {
	return errors.Join(b.Loans.WaitReady(ctx), b.Active.WaitReady(ctx))
}

func newLoanID(t time.Time) string {
	// Sortable by check-out time, unique without coordination.
	return "L" + strconv.FormatInt(t.UnixMilli(), 36) + strings.ToLower(rand.Text()[:6])
}

func (b *Book) today() string { return b.now().Format(time.DateOnly) }

// checkout prepares the transaction lending one unit: its compares, its
// writes, and the loan. It refuses, with the reason, a unit that is not a
// declared loaner, already lent, or not ready (unless forced with a reason).
func (b *Book) checkout(ctx context.Context, req adminapi.CheckoutRequest, by string) ([]clientv3.Cmp, []clientv3.Op, Loan, error) {
	var problems []string
	if req.Borrower == "" {
		problems = append(problems, "borrower id missing")
	} else if !borrowerPattern.MatchString(req.Borrower) {
		problems = append(problems, fmt.Sprintf("borrower id %.80q: an opaque id such as a student or staff number (letters, digits, . _ -, at most 64), never a name", req.Borrower))
	}
	if req.BorrowerType != adminapi.BorrowerStudent && req.BorrowerType != adminapi.BorrowerStaff {
		problems = append(problems, fmt.Sprintf("borrower type %.32q: want student or staff", req.BorrowerType))
	}
	if due, err := time.Parse(time.DateOnly, req.Due); err != nil {
		problems = append(problems, fmt.Sprintf("due date %.32q: want YYYY-MM-DD", req.Due))
	} else if due.Format(time.DateOnly) < b.today() {
		problems = append(problems, fmt.Sprintf("due date %s is in the past", req.Due))
	}
	if len(req.FormRef) > 128 || len(req.Reason) > 512 {
		problems = append(problems, "form reference or reason too long")
	}
	if req.Force && strings.TrimSpace(req.Reason) == "" {
		problems = append(problems, "a forced check-out needs a reason")
	}
	if err := store.ValidID(req.Unit); err != nil {
		problems = append(problems, "unit: "+err.Error())
	}
	if len(problems) > 0 {
		return nil, nil, Loan{}, &InputError{strings.Join(problems, "; ")}
	}

	declaredKey := b.store.Key(store.KindDeclared, req.Unit)
	var unit inventory.Unit
	unitRev, err := b.store.Get(ctx, declaredKey, &unit)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, Loan{}, fmt.Errorf("unit %s: %w (not in the declared inventory)", req.Unit, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, Loan{}, err
	}
	if unit.Role != inventory.RoleLoaner {
		return nil, nil, Loan{}, inputErr("unit %s is a %s unit, not a loaner", req.Unit, unit.Role)
	}
	if holder, lent := b.Active.Get(req.Unit); lent {
		l, _ := b.Loans.Get(holder)
		return nil, nil, Loan{}, fmt.Errorf("%w: %s is on loan %s (%s, due %s)", ErrAlreadyLent, req.Unit, holder, l.State, l.Due)
	}
	st, judged := b.statuses.Get(req.Unit)
	if !judged || st.Readiness != readiness.Ready {
		if !req.Force {
			return nil, nil, Loan{}, fmt.Errorf("%w: %s", ErrNotReady, notReadyReasons(req.Unit, st, judged))
		}
	}
	now := b.now().UTC()
	l := Loan{ID: newLoanID(now), Unit: req.Unit, Site: unit.PlacedAt(), Borrower: req.Borrower, BorrowerType: req.BorrowerType,
		Due: req.Due, FormSigned: req.FormSigned, FormRef: req.FormRef, State: adminapi.LoanActive, OutAt: now, OutBy: by,
		Events: []adminapi.LoanEvent{{At: now, By: by, Action: "checkout"}}}
	if req.Force && (!judged || st.Readiness != readiness.Ready) {
		l.Forced, l.ForceReason = true, req.Reason
		l.Events[0].Note = "forced: " + req.Reason
	}
	data, err := store.Encode(l)
	if err != nil {
		return nil, nil, Loan{}, err
	}
	activeKey := b.store.Key(store.KindActiveLoans, req.Unit)
	cmps := []clientv3.Cmp{
		// Exactly one check-out of a unit can win: the one that finds no
		// active loan, on the unit as it was read.
		clientv3.Compare(clientv3.Version(activeKey), "=", 0),
		clientv3.Compare(clientv3.ModRevision(declaredKey), "=", unitRev),
	}
	ops := []clientv3.Op{
		clientv3.OpPut(b.store.Key(store.KindLoans, l.ID), string(data)),
		clientv3.OpPut(activeKey, l.ID),
	}
	return cmps, ops, l, nil
}

func notReadyReasons(tag string, st reconcile.Status, judged bool) string {
	if !judged {
		return tag + " has not been judged yet; retry in a moment, or force with a reason"
	}
	var rules []string
	for _, o := range st.Outcomes {
		rules = append(rules, o.Rule)
	}
	return fmt.Sprintf("%s is %s (%s); fix it, or force with a reason", tag, strings.ReplaceAll(string(st.Readiness), "_", " "), strings.Join(rules, ", "))
}

// Checkout lends a unit. Of any number of simultaneous check-outs of one
// unit, exactly one succeeds; the others get ErrAlreadyLent.
func (b *Book) Checkout(ctx context.Context, req adminapi.CheckoutRequest, by string) (Loan, error) {
	cmps, ops, l, err := b.checkout(ctx, req, by)
	if err != nil {
		return Loan{}, err
	}
	entry, err := b.audit.Op(ctx, audit.Entry{Action: "loan.checkout", Object: "loan/" + l.ID, Site: l.Site, After: audit.Snapshot(l)})
	if err != nil {
		return Loan{}, err
	}
	resp, err := b.store.Client.Txn(ctx).If(cmps...).Then(append(ops, entry)...).Commit()
	if err != nil {
		return Loan{}, fmt.Errorf("recording the loan of %s: %w", req.Unit, err)
	}
	if !resp.Succeeded {
		return Loan{}, fmt.Errorf("%w: %s was lent or changed a moment ago", ErrAlreadyLent, req.Unit)
	}
	b.Loans.Set(l.ID, l)
	b.Active.Set(l.Unit, l.ID)
	b.log.Info("loan recorded", "loan", l.ID, "unit", l.Unit, "site", l.Site, "due", l.Due, "forced", l.Forced, "by", by)
	return l, nil
}

// Actions on a loan, and the states they lead to.
var actions = map[string]struct {
	to    string
	from  []string
	close bool
}{
	"return":    {to: adminapi.LoanReturned, from: []string{adminapi.LoanActive, adminapi.LoanLost, adminapi.LoanAbandoned}, close: true},
	"lost":      {to: adminapi.LoanLost, from: []string{adminapi.LoanActive, adminapi.LoanAbandoned}},
	"abandoned": {to: adminapi.LoanAbandoned, from: []string{adminapi.LoanActive, adminapi.LoanLost}},
	"recover":   {to: adminapi.LoanRecovered, from: []string{adminapi.LoanLost, adminapi.LoanAbandoned}, close: true},
}

// change prepares an action on the loan holding a unit (or a loan by id).
func (b *Book) change(ctx context.Context, ref string, act adminapi.LoanAction, by string) ([]clientv3.Cmp, []clientv3.Op, Loan, Loan, error) {
	a, ok := actions[act.Action]
	if !ok {
		return nil, nil, Loan{}, Loan{}, inputErr("action %.32q: want return, lost, abandoned or recover", act.Action)
	}
	if len(act.Note) > 1024 {
		return nil, nil, Loan{}, Loan{}, inputErr("note longer than 1024 characters")
	}
	id := ref
	if holder, lent := b.Active.Get(ref); lent {
		id = holder // ref is the asset tag of a lent unit
	} else if _, declared := b.inventory.Units.Get(ref); declared {
		return nil, nil, Loan{}, Loan{}, inputErr("unit %s is not on loan", ref)
	}
	if err := store.ValidID(id); err != nil {
		return nil, nil, Loan{}, Loan{}, inputErr("loan or unit: %v", err)
	}
	loanKey := b.store.Key(store.KindLoans, id)
	var old Loan
	rev, err := b.store.Get(ctx, loanKey, &old)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, Loan{}, Loan{}, fmt.Errorf("no loan or lent unit %q: %w", ref, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, Loan{}, Loan{}, err
	}
	if !slices.Contains(a.from, old.State) {
		return nil, nil, Loan{}, Loan{}, inputErr("loan %s of %s is %s: it cannot be marked %s", old.ID, old.Unit, old.State, a.to)
	}
	now := b.now().UTC()
	l := old
	l.Events = append(slices.Clone(old.Events), adminapi.LoanEvent{At: now, By: by, Action: act.Action, Note: act.Note})
	l.State = a.to
	if act.Action == "return" {
		l.Condition = act.Note
	}
	if a.close {
		l.ClosedAt = &now
	}
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(loanKey), "=", rev)}
	data, err := store.Encode(l)
	if err != nil {
		return nil, nil, Loan{}, Loan{}, err
	}
	ops := []clientv3.Op{clientv3.OpPut(loanKey, string(data))}
	if a.close {
		activeKey := b.store.Key(store.KindActiveLoans, l.Unit)
		cmps = append(cmps, clientv3.Compare(clientv3.Value(activeKey), "=", l.ID))
		ops = append(ops, clientv3.OpDelete(activeKey))
	}
	return cmps, ops, old, l, nil
}

// Change applies an action to the loan of a unit (by asset tag) or to a
// loan (by id): return (the note is the unit's condition), lost,
// abandoned, recover.
func (b *Book) Change(ctx context.Context, ref string, act adminapi.LoanAction, by string) (Loan, error) {
	cmps, ops, old, l, err := b.change(ctx, ref, act, by)
	if err != nil {
		return Loan{}, err
	}
	entry, err := b.audit.Op(ctx, audit.Entry{Action: "loan." + act.Action, Object: "loan/" + l.ID, Site: l.Site,
		Before: audit.Snapshot(old), After: audit.Snapshot(l)})
	if err != nil {
		return Loan{}, err
	}
	resp, err := b.store.Client.Txn(ctx).If(cmps...).Then(append(ops, entry)...).Commit()
	if err != nil {
		return Loan{}, fmt.Errorf("recording %s of loan %s: %w", act.Action, l.ID, err)
	}
	if !resp.Succeeded {
		return Loan{}, fmt.Errorf("loan %s changed a moment ago; look again: %w", l.ID, store.ErrConflict)
	}
	b.Loans.Set(l.ID, l)
	if l.ClosedAt != nil {
		b.Active.Delete(l.Unit)
		b.log.Info("loan closed", "loan", l.ID, "unit", l.Unit, "state", l.State, "by", by)
	}
	return l, nil
}

// Lists a coordinator works from.
const (
	ListActive  = "active"     // lent and not lost or abandoned
	ListDueSoon = "due_soon"   // active, due within the next days
	ListOverdue = "overdue"    // active, due date passed
	ListRecover = "to_recover" // lost or abandoned: recover the unit
	ListOpen    = "open"       // holding a unit: active, lost or abandoned
	ListClosed  = "closed"
	ListAll     = "all"
)

// Filter selects loans.
type Filter struct {
	List     string
	Site     string
	Unit     string
	Borrower string
	// DueWithin is the window of ListDueSoon, in days.
	DueWithin int
}

// List returns the loans f selects, in check-out order.
func (b *Book) List(f Filter) ([]Loan, error) {
	today := b.today()
	soon := b.now().AddDate(0, 0, max(f.DueWithin, 1)).Format(time.DateOnly)
	var out []Loan
	var bad error
	b.Loans.Range(func(_ string, l Loan) bool {
		if (f.Site != "" && l.Site != f.Site) || (f.Unit != "" && l.Unit != f.Unit) || (f.Borrower != "" && l.Borrower != f.Borrower) {
			return true
		}
		var keep bool
		switch f.List {
		case ListActive:
			keep = l.State == adminapi.LoanActive
		case ListDueSoon:
			keep = l.State == adminapi.LoanActive && l.Due >= today && l.Due <= soon
		case ListOverdue:
			keep = l.State == adminapi.LoanActive && l.Due < today
		case ListRecover:
			keep = l.State == adminapi.LoanLost || l.State == adminapi.LoanAbandoned
		case ListOpen:
			keep = l.ClosedAt == nil
		case ListClosed:
			keep = l.ClosedAt != nil
		case ListAll, "":
			keep = true
		default:
			bad = inputErr("list %.32q: want active, due_soon, overdue, to_recover, open, closed or all", f.List)
			return false
		}
		if keep {
			out = append(out, l)
		}
		return true
	})
	slices.SortFunc(out, func(a, b Loan) int { return strings.Compare(a.ID, b.ID) })
	return out, bad
}

// OpenLoan returns the loan holding a unit, if any.
func (b *Book) OpenLoan(tag string) (Loan, bool) {
	id, ok := b.Active.Get(tag)
	if !ok {
		return Loan{}, false
	}
	return b.Loans.Get(id)
}
