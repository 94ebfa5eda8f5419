package loans

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/store"
)

// BorrowerLoans returns every loan parc holds of a borrower, for their
// right of access.
func (b *Book) BorrowerLoans(borrower string) ([]Loan, error) {
	if !borrowerPattern.MatchString(borrower) {
		return nil, inputErr("borrower id %.80q: not a borrower id", borrower)
	}
	return b.List(Filter{Borrower: borrower})
}

// anonymise removes the borrower from a loan; the loan stays, so the
// unit's history and the counts stay right.
func anonymise(l Loan) Loan {
	l.Borrower, l.FormRef, l.Anonymised = "", "", true
	return l
}

// Erase anonymises a borrower's closed loans (right to erasure). It refuses
// while the borrower still holds a unit: the loan is needed to recover it.
func (b *Book) Erase(ctx context.Context, borrower, by string) (int, error) {
	loans, err := b.BorrowerLoans(borrower)
	if err != nil {
		return 0, err
	}
	for _, l := range loans {
		if l.ClosedAt == nil {
			return 0, inputErr("borrower %s still holds unit %s (loan %s, %s): return or recover it first", borrower, l.Unit, l.ID, l.State)
		}
	}
	n := 0
	for _, l := range loans {
		done, err := b.anonymiseOne(ctx, l.ID, audit.Entry{Action: "privacy.erase", Object: "borrower/" + borrower, Site: l.Site, Detail: "loan " + l.ID + " anonymised"})
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	b.log.Info("borrower erased", "loans", n, "by", by)
	return n, nil
}

// AnonymiseClosedBefore is the retention sweeper of loans: loans closed
// before cutoff lose their borrower id. It is idempotent.
func (b *Book) AnonymiseClosedBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	loans, _ := b.List(Filter{List: ListClosed})
	for _, l := range loans {
		if l.Anonymised || l.ClosedAt == nil || !l.ClosedAt.Before(cutoff) {
			continue
		}
		done, err := b.anonymiseOne(ctx, l.ID, audit.Entry{Action: "retention.anonymise", Object: "loan/" + l.ID, Site: l.Site,
			Detail: fmt.Sprintf("closed %s, before the retention cutoff %s", l.ClosedAt.Format(time.DateOnly), cutoff.Format(time.DateOnly))})
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// anonymiseOne anonymises one loan, read afresh from etcd, with its audit
// entry in the same transaction.
func (b *Book) anonymiseOne(ctx context.Context, id string, entry audit.Entry) (bool, error) {
	key := b.store.Key(store.KindLoans, id)
	for range 3 {
		var l Loan
		rev, err := b.store.Get(ctx, key, &l)
		if err != nil {
			return false, err
		}
		if l.Anonymised {
			return false, nil
		}
		a := anonymise(l)
		data, err := store.Encode(a)
		if err != nil {
			return false, err
		}
		op, err := b.audit.Op(ctx, entry)
		if err != nil {
			return false, err
		}
		resp, err := b.store.Client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, string(data)), op).Commit()
		if err != nil {
			return false, fmt.Errorf("anonymising loan %s: %w", id, err)
		}
		if resp.Succeeded {
			b.Loans.Set(id, a)
			return true, nil
		}
	}
	return false, fmt.Errorf("anonymising loan %s: %w", id, store.ErrConflict)
}
