package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) loansCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "loans", Short: "lend, return, list and export loans"}
	cmd.AddCommand(a.checkoutCommand(), a.loanActionCommand("return", "record a return, with the unit's condition"),
		a.loanActionCommand("lost", "mark a lent unit lost"),
		a.loanActionCommand("abandoned", "mark a loan abandoned (the student left): the unit must be recovered"),
		a.loanActionCommand("recover", "record that a lost or abandoned unit is back"),
		a.loansListCommand(), a.loanShowCommand(), a.loansExportCommand(), a.loansBulkCommand())
	return cmd
}

func (a *app) checkoutCommand() *cobra.Command {
	var req adminapi.CheckoutRequest
	var staff bool
	cmd := &cobra.Command{
		Use:   "checkout ASSET-TAG --borrower ID --due YYYY-MM-DD",
		Short: "lend a ready loaner to a borrower (an opaque student or staff number, never a name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Unit = args[0]
			req.BorrowerType = adminapi.BorrowerStudent
			if staff {
				req.BorrowerType = adminapi.BorrowerStaff
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var l adminapi.Loan
			if err := c.Do(cmd.Context(), http.MethodPost, adminapi.PathLoans, req, &l); err != nil {
				return fmt.Errorf("lending %s: %w", req.Unit, err)
			}
			if a.json() {
				return a.printJSON(l)
			}
			forced := ""
			if l.Forced {
				forced = " (forced: " + l.ForceReason + ")"
			}
			fmt.Fprintf(a.out, "loan %s: %s lent to %s, due %s%s\n", l.ID, l.Unit, dash(l.Borrower), l.Due, forced)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Borrower, "borrower", "", "borrower id: student or staff number (required)")
	f.BoolVar(&staff, "staff", false, "the borrower is staff (default: a student)")
	f.StringVar(&req.Due, "due", "", "due date, YYYY-MM-DD (required)")
	f.BoolVar(&req.FormSigned, "form-signed", false, "the loan form was signed")
	f.StringVar(&req.FormRef, "form-ref", "", "reference of the signed form")
	f.BoolVar(&req.Force, "force", false, "lend even though the unit is not ready (needs --reason)")
	f.StringVar(&req.Reason, "reason", "", "why a not-ready unit is lent anyway")
	_ = cmd.MarkFlagRequired("borrower")
	_ = cmd.MarkFlagRequired("due")
	return cmd
}

func (a *app) loanActionCommand(action, short string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   action + " ASSET-TAG|LOAN-ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var l adminapi.Loan
			path := adminapi.PathLoans + "/" + url.PathEscape(args[0]) + "/actions"
			if err := c.Do(cmd.Context(), http.MethodPost, path, adminapi.LoanAction{Action: action, Note: note}, &l); err != nil {
				return fmt.Errorf("%s %s: %w", action, args[0], err)
			}
			if a.json() {
				return a.printJSON(l)
			}
			fmt.Fprintf(a.out, "loan %s of %s: %s\n", l.ID, l.Unit, l.State)
			return nil
		},
	}
	name := "note"
	if action == "return" {
		name = "condition"
	}
	cmd.Flags().StringVar(&note, name, "", "notes recorded with it")
	return cmd
}

func (a *app) loansListCommand() *cobra.Command {
	var list, site, unit, borrower string
	var within int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list loans: --list active, due_soon, overdue, to_recover, open, closed or all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			q := url.Values{"list": {list}, "site": {site}, "unit": {unit}, "borrower": {borrower}, "due_within": {fmt.Sprint(within)}}
			var out adminapi.LoanList
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathLoans+"?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(out.Loans)
			}
			rows := make([][]string, 0, len(out.Loans))
			for _, l := range out.Loans {
				rows = append(rows, []string{l.ID, l.Unit, l.Site, dash(l.Borrower), l.BorrowerType, l.OutAt.Local().Format(time.DateOnly),
					l.Due, l.State, yesno(l.FormSigned)})
			}
			if err := a.table([]string{"LOAN", "UNIT", "SITE", "BORROWER", "TYPE", "OUT", "DUE", "STATE", "FORM"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%d loans\n", len(out.Loans))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&list, "list", "open", "active, due_soon, overdue, to_recover, open, closed or all")
	f.StringVar(&site, "site", "", "only loans of this site")
	f.StringVar(&unit, "unit", "", "the history of one unit")
	f.StringVar(&borrower, "borrower", "", "the history of one borrower (recorded in the audit log)")
	f.IntVar(&within, "due-within", 7, "days ahead that count as due soon")
	return cmd
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (a *app) loanShowCommand() *cobra.Command {
	return &cobra.Command{
		Use: "show LOAN-ID", Short: "show a loan and its history", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var l adminapi.Loan
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathLoans+"/"+url.PathEscape(args[0]), nil, &l); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(l)
			}
			rows := [][]string{{"loan", l.ID}, {"unit", l.Unit}, {"site", l.Site}, {"borrower", dash(l.Borrower)},
				{"type", l.BorrowerType}, {"due", l.Due}, {"state", l.State}, {"form signed", yesno(l.FormSigned)}, {"form", dash(l.FormRef)}}
			if l.Forced {
				rows = append(rows, []string{"forced", l.ForceReason})
			}
			if l.Condition != "" {
				rows = append(rows, []string{"condition", l.Condition})
			}
			for _, e := range l.Events {
				rows = append(rows, []string{e.At.Local().Format(time.DateTime), strings.TrimSpace(e.Action + " by " + e.By + " " + e.Note)})
			}
			return a.table([]string{"FIELD", "VALUE"}, rows)
		},
	}
}

func (a *app) loansExportCommand() *cobra.Command {
	var lang, file, list string
	cmd := &cobra.Command{
		Use: "export", Short: "write the loan register as CSV, for the storekeeper", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"lang": {lang}, "list": {list}}
			return a.download(cmd, adminapi.PathExportLoans+"?"+q.Encode(), file)
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "en", "headers in en (comma separated) or fr (semicolon separated)")
	cmd.Flags().StringVar(&list, "list", "all", "which loans (as in loans list)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "write to this file instead of standard output")
	return cmd
}

// decodeResult decodes a 2xx answer, or a 422 refusal that carries a
// result (the bad lines of a file), into out.
func decodeResult(resp *http.Response, err error, out any) error {
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || json.Unmarshal(ae.Body, out) != nil {
			return err
		}
		return nil
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// download writes a GET answer to file, or to standard output.
func (a *app) download(cmd *cobra.Command, path, file string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	resp, err := c.Raw(cmd.Context(), http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out io.Writer = a.out
	if file != "" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	_, err = io.Copy(out, resp.Body)
	return err
}

func (a *app) loansBulkCommand() *cobra.Command {
	var checkin bool
	cmd := &cobra.Command{
		Use:   "bulk FILE.csv",
		Short: "lend (or with --checkin, return) every unit of a CSV file, all or nothing",
		Long: `Lend every unit of a CSV file: columns asset_tag (numéro d'inventaire), borrower
(emprunteur), borrower_type (student/staff, élève/personnel), due (échéance,
YYYY-MM-DD or DD/MM/YYYY), form_signed (oui/non), form_ref. With --checkin,
return them: columns asset_tag and condition (état). A file with any bad line
records nothing; every bad line is listed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			path := fmt.Sprintf("%s?checkin=%t", adminapi.PathLoansBulk, checkin)
			resp, err := c.Raw(cmd.Context(), http.MethodPost, path, "text/csv", f)
			var res adminapi.BulkResult
			if err := decodeResult(resp, err, &res); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(res)
			}
			if len(res.Errors) > 0 {
				fmt.Fprintf(a.out, "%d bad lines, nothing recorded:\n", len(res.Errors))
				for _, e := range res.Errors {
					fmt.Fprintf(a.out, "  line %d %s: %s\n", e.Line, e.Unit, e.Message)
				}
				return fmt.Errorf("nothing recorded")
			}
			verb := "lent"
			if checkin {
				verb = "returned"
			}
			for _, l := range res.Loans {
				fmt.Fprintf(a.out, "%s %s (loan %s, due %s)\n", l.Unit, verb, l.ID, l.Due)
			}
			fmt.Fprintf(a.out, "%d units %s\n", len(res.Loans), verb)
			return nil
		},
	}
	cmd.Flags().BoolVar(&checkin, "checkin", false, "return the units of the file instead of lending them")
	return cmd
}
