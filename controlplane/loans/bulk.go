package loans

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/sheet"
)

// MaxBulk bounds a bulk file: an appointment day hands out dozens, a big
// school a few hundred. All of a file commits in one etcd transaction, so
// it needs etcd's --max-txn-ops at 3 operations per line (parc-server's
// embedded etcd allows it; an external cluster at its default of 128
// takes files of up to 42 lines).
const MaxBulk = 500

// Bulk file columns.
const (
	colUnit         = "unit"
	colBorrower     = "borrower"
	colBorrowerType = "borrower_type"
	colDue          = "due"
	colFormSigned   = "form_signed"
	colFormRef      = "form_ref"
	colCondition    = "condition"
)

var bulkFormat = sheet.Format{
	Aliases: map[string]string{
		"asset tag": colUnit, "unit": colUnit, "tag": colUnit, "numero d inventaire": colUnit, "unite": colUnit, "etiquette": colUnit,
		"borrower": colBorrower, "borrower id": colBorrower, "student": colBorrower, "emprunteur": colBorrower, "matricule": colBorrower,
		"fiche": colBorrower, "code permanent": colBorrower,
		"borrower type": colBorrowerType, "type": colBorrowerType, "type d emprunteur": colBorrowerType,
		"due": colDue, "due date": colDue, "echeance": colDue, "date de retour": colDue, "retour prevu": colDue,
		"form signed": colFormSigned, "signed": colFormSigned, "formulaire signe": colFormSigned, "signe": colFormSigned,
		"form ref": colFormRef, "form reference": colFormRef, "reference formulaire": colFormRef, "formulaire": colFormRef,
		"condition": colCondition, "etat": colCondition, "note": colCondition, "remarque": colCondition,
	},
	Required: []string{colUnit},
	Example:  map[string]string{colUnit: `asset_tag" or "numéro d'inventaire`},
	MaxBytes: 1 << 20,
	MaxRows:  MaxBulk,
}

// borrowerTypes accepts types as people write them.
var borrowerTypes = map[string]string{
	"student": adminapi.BorrowerStudent, "eleve": adminapi.BorrowerStudent, "etudiant": adminapi.BorrowerStudent,
	"staff": adminapi.BorrowerStaff, "teacher": adminapi.BorrowerStaff, "personnel": adminapi.BorrowerStaff,
	"enseignant": adminapi.BorrowerStaff, "enseignante": adminapi.BorrowerStaff,
}

// Bulk checks out (checkin false) or checks in (checkin true) every unit of
// a file, all or nothing: a file with any bad line records nothing and the
// result lists every bad line.
func (b *Book) Bulk(ctx context.Context, r io.Reader, checkin bool, by string) (adminapi.BulkResult, error) {
	rows, lineErrs, _, err := sheet.Read(r, bulkFormat)
	if err != nil {
		return adminapi.BulkResult{}, err
	}
	var res adminapi.BulkResult
	for _, e := range lineErrs {
		res.Errors = append(res.Errors, adminapi.LineError{Line: e.Line, Message: e.Message})
	}
	if len(rows) == 0 && len(res.Errors) == 0 {
		res.Errors = append(res.Errors, adminapi.LineError{Line: 2, Message: "no lines"})
	}
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	var loans []Loan
	seen := map[string]int{}
	for _, row := range rows {
		unit := row.Get(colUnit)
		bad := func(err error) {
			res.Errors = append(res.Errors, adminapi.LineError{Line: row.Line, Unit: unit, Message: err.Error()})
		}
		if prev, dup := seen[unit]; dup {
			bad(fmt.Errorf("unit %s already on line %d", unit, prev))
			continue
		}
		seen[unit] = row.Line
		var c []clientv3.Cmp
		var o []clientv3.Op
		var l, old Loan
		if checkin {
			c, o, old, l, err = b.change(ctx, unit, adminapi.LoanAction{Action: "return", Note: row.Get(colCondition)}, by)
		} else {
			req, perr := checkoutRow(row)
			if perr != nil {
				bad(perr)
				continue
			}
			c, o, l, err = b.checkout(ctx, req, by)
		}
		if err != nil {
			bad(err)
			continue
		}
		entry := audit.Entry{Action: "loan.checkout", Object: "loan/" + l.ID, Site: l.Site, After: audit.Snapshot(l), Detail: "bulk"}
		if checkin {
			entry = audit.Entry{Action: "loan.return", Object: "loan/" + l.ID, Site: l.Site, Before: audit.Snapshot(old), After: audit.Snapshot(l), Detail: "bulk"}
		}
		op, err := b.audit.Op(ctx, entry)
		if err != nil {
			return adminapi.BulkResult{}, err
		}
		cmps, ops, loans = append(cmps, c...), append(append(ops, o...), op), append(loans, l)
	}
	if len(res.Errors) > 0 {
		return res, nil
	}
	resp, err := b.store.Client.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		if strings.Contains(err.Error(), "too many operations") {
			return adminapi.BulkResult{}, &InputError{fmt.Sprintf("%d lines need %d operations in one etcd transaction, more than this etcd allows (its --max-txn-ops): split the file", len(rows), len(ops))}
		}
		return adminapi.BulkResult{}, fmt.Errorf("recording %d loans: %w", len(loans), err)
	}
	if !resp.Succeeded {
		return adminapi.BulkResult{}, errors.New("a unit of the file was lent or returned meanwhile; nothing was recorded: run it again to see which")
	}
	for _, l := range loans {
		b.Loans.Set(l.ID, l)
		if checkin {
			b.Active.Delete(l.Unit)
		} else {
			b.Active.Set(l.Unit, l.ID)
		}
	}
	b.log.Info("bulk loans recorded", "checkin", checkin, "count", len(loans), "by", by)
	res.Loans = loans
	return res, nil
}

func checkoutRow(row sheet.Row) (adminapi.CheckoutRequest, error) {
	req := adminapi.CheckoutRequest{Unit: row.Get(colUnit), Borrower: row.Get(colBorrower), FormRef: row.Get(colFormRef)}
	due, err := sheet.Date(row.Get(colDue))
	if err != nil || due == "" {
		return req, fmt.Errorf("due date %q: want YYYY-MM-DD or DD/MM/YYYY", row.Get(colDue))
	}
	req.Due = due
	t, ok := borrowerTypes[sheet.Normalize(row.Get(colBorrowerType))]
	if !ok {
		return req, fmt.Errorf("borrower type %q: want student or staff (élève ou personnel)", row.Get(colBorrowerType))
	}
	req.BorrowerType = t
	signed, err := sheet.Bool(row.Get(colFormSigned))
	if err != nil {
		return req, fmt.Errorf("form signed %w", err)
	}
	req.FormSigned = signed
	return req, nil
}
