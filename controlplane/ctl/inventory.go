package ctl

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/inventory"
)

func (a *app) sitesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sites", Short: "list, create, update and delete sites (schools, centres)"}
	var s inventory.Site
	create := &cobra.Command{
		Use: "create ID", Short: "create a site", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.ID = args[0]
			return a.send(cmd, http.MethodPost, adminapi.PathSites, s, "site "+s.ID+" created")
		},
	}
	create.Flags().StringVar(&s.Name, "name", "", "the site's full name")
	update := &cobra.Command{
		Use: "update ID", Short: "rename a site", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.ID = args[0]
			return a.send(cmd, http.MethodPut, adminapi.PathSites+"/"+url.PathEscape(s.ID), s, "site "+s.ID+" updated")
		},
	}
	update.Flags().StringVar(&s.Name, "name", "", "the site's full name")
	cmd.AddCommand(listCommand(a, adminapi.PathSites, []string{"ID", "NAME"}, func(v inventory.Site) []string {
		return []string{v.ID, dash(v.Name)}
	}), create, update, a.deleteCommand("site", adminapi.PathSites), a.siteLinksCommand())
	return cmd
}

func (a *app) classroomsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "classrooms", Short: "list, create, update and delete classrooms"}
	var c inventory.Classroom
	for _, verb := range []string{"create", "update"} {
		sub := &cobra.Command{
			Use: verb + " ID --site SITE", Short: verb + " a classroom", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c.ID = args[0]
				if verb == "create" {
					return a.send(cmd, http.MethodPost, adminapi.PathClassrooms, c, "classroom "+c.ID+" created")
				}
				return a.send(cmd, http.MethodPut, adminapi.PathClassrooms+"/"+url.PathEscape(c.ID), c, "classroom "+c.ID+" updated")
			},
		}
		sub.Flags().StringVar(&c.Site, "site", "", "site the classroom is at (required)")
		sub.Flags().StringVar(&c.Name, "name", "", "the classroom's name")
		_ = sub.MarkFlagRequired("site")
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(a.classroomsReportCommand())
	cmd.AddCommand(listCommand(a, adminapi.PathClassrooms, []string{"ID", "SITE", "NAME"}, func(v inventory.Classroom) []string {
		return []string{v.ID, v.Site, dash(v.Name)}
	}), a.deleteCommand("classroom", adminapi.PathClassrooms))
	return cmd
}

func (a *app) cartsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "carts", Short: "list, create, update and delete charging carts and cabinets"}
	var c inventory.Cart
	for _, verb := range []string{"create", "update"} {
		sub := &cobra.Command{
			Use: verb + " ID --site SITE --slots N", Short: verb + " a cart or cabinet", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c.ID = args[0]
				if verb == "create" {
					return a.send(cmd, http.MethodPost, adminapi.PathCarts, c, "cart "+c.ID+" created")
				}
				return a.send(cmd, http.MethodPut, adminapi.PathCarts+"/"+url.PathEscape(c.ID), c, "cart "+c.ID+" updated")
			},
		}
		sub.Flags().StringVar(&c.Site, "site", "", "site the cart is at (required)")
		sub.Flags().IntVar(&c.Slots, "slots", 0, "number of slots (required)")
		sub.Flags().StringVar(&c.Kind, "kind", "cart", "cart or cabinet")
		sub.Flags().StringVar(&c.Name, "name", "", "the cart's name")
		_ = sub.MarkFlagRequired("site")
		_ = sub.MarkFlagRequired("slots")
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(a.cartShowCommand())
	cmd.AddCommand(listCommand(a, adminapi.PathCarts, []string{"ID", "SITE", "KIND", "SLOTS", "NAME"}, func(v inventory.Cart) []string {
		return []string{v.ID, v.Site, v.Kind, fmt.Sprint(v.Slots), dash(v.Name)}
	}), a.deleteCommand("cart", adminapi.PathCarts))
	return cmd
}

// listCommand lists a kind, optionally of one site.
func listCommand[T any](a *app, path string, header []string, row func(T) []string) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use: "list", Short: "list them", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var items []T
			if err := c.Do(cmd.Context(), http.MethodGet, path+"?site="+url.QueryEscape(site), nil, &items); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(items)
			}
			rows := make([][]string, len(items))
			for i, it := range items {
				rows[i] = row(it)
			}
			return a.table(header, rows)
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "only those of this site")
	return cmd
}

func (a *app) deleteCommand(what, path string) *cobra.Command {
	return &cobra.Command{
		Use: "delete ID", Short: "delete a " + what, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.send(cmd, http.MethodDelete, path+"/"+url.PathEscape(args[0]), nil, what+" "+args[0]+" deleted")
		},
	}
}

// send makes a write request and says what it did.
func (a *app) send(cmd *cobra.Command, method, path string, body any, done string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var out json.RawMessage
	if err := c.Do(cmd.Context(), method, path, body, &out); err != nil {
		return err
	}
	if a.json() && len(out) > 0 {
		_, err := a.out.Write(append(out, '\n'))
		return err
	}
	fmt.Fprintln(a.out, done)
	return nil
}

func (a *app) importCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "import data from files"}
	var dryRun bool
	inv := &cobra.Command{
		Use:   "inventory FILE.csv",
		Short: "import declared units from a spreadsheet export (all or nothing)",
		Long: `Import declared units from a CSV file as spreadsheets export them: headers in
English or French (asset_tag / numéro d'inventaire, serial / numéro de série,
site / établissement, role / rôle, ...), comma or semicolon separated, UTF-8
with or without BOM. Sites and classrooms the file names are created; a cart
is created when a cart_slots column gives its size.

A file with any bad row imports nothing: every bad row is listed with its line
number. Importing the same file again changes nothing. --dry-run shows what
would change.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.importInventory(cmd, args[0], dryRun)
		},
	}
	inv.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change, change nothing")
	cmd.AddCommand(inv)
	return cmd
}

func (a *app) importInventory(cmd *cobra.Command, file string, dryRun bool) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	body := &progressReader{r: f, total: info.Size(), report: func(done, total int64) {
		fmt.Fprintf(stderr, "\ruploading %s: %d%%", file, done*100/max(total, 1))
	}}
	path := fmt.Sprintf("%s?progress=true&dry_run=%t", adminapi.PathImportInventory, dryRun)
	resp, err := c.Raw(cmd.Context(), http.MethodPost, path, "text/csv", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Fprintln(stderr)
	var res *inventory.ImportResult
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Progress *inventory.Progress     `json:"progress"`
			Result   *inventory.ImportResult `json:"result"`
			Error    string                  `json:"error"`
			Detail   string                  `json:"detail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("reading the server's answer: %w", err)
		}
		switch {
		case line.Error != "":
			return fmt.Errorf("%s: %s", line.Error, line.Detail)
		case line.Progress != nil && line.Progress.Total > 0:
			fmt.Fprintf(stderr, "\r%s: %d/%d   ", line.Progress.Phase, line.Progress.Done, line.Progress.Total)
		case line.Result != nil:
			res = line.Result
		}
	}
	fmt.Fprintln(stderr)
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the server's answer: %w", err)
	}
	if res == nil {
		return fmt.Errorf("the server ended the import without a result")
	}
	if a.json() {
		if err := a.printJSON(res); err != nil {
			return err
		}
	} else {
		a.printImport(res)
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d bad rows: nothing imported", len(res.Errors))
	}
	return nil
}

func (a *app) printImport(res *inventory.ImportResult) {
	w := a.out
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "%d rows read; %d bad rows, so nothing was imported:\n", res.Rows, len(res.Errors))
		for _, e := range res.Errors {
			tag := ""
			if e.AssetTag != "" {
				tag = " (" + e.AssetTag + ")"
			}
			fmt.Fprintf(w, "  line %d%s: %s\n", e.Line, tag, e.Message)
		}
		return
	}
	verb := "imported"
	if res.DryRun {
		verb = "would import (dry run, nothing changed)"
	}
	fmt.Fprintf(w, "%d rows %s: %d created, %d updated, %d unchanged\n", res.Rows, verb, res.Created, res.Updated, res.Unchanged)
	for _, l := range []struct {
		what string
		ids  []string
	}{{"sites", res.SitesCreated}, {"classrooms", res.ClassroomsCreated}, {"carts", res.CartsCreated}} {
		if len(l.ids) > 0 {
			fmt.Fprintf(w, "new %s: %s\n", l.what, strings.Join(l.ids, ", "))
		}
	}
	if res.DryRun {
		for _, c := range res.Changes {
			if c.Action == "update" {
				fmt.Fprintf(w, "  update %s: %s\n", c.AssetTag, strings.Join(c.Fields, ", "))
			} else {
				fmt.Fprintf(w, "  create %s\n", c.AssetTag)
			}
		}
	}
	if len(res.IgnoredColumns) > 0 {
		fmt.Fprintf(w, "ignored columns: %s\n", strings.Join(res.IgnoredColumns, ", "))
	}
}

func (a *app) exportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "export data as files"}
	var lang, file string
	inv := &cobra.Command{
		Use:   "inventory",
		Short: "write the declared inventory as CSV, in the import format",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			resp, err := c.Raw(cmd.Context(), http.MethodGet, adminapi.PathExportInventory+"?lang="+url.QueryEscape(lang), "", nil)
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
		},
	}
	inv.Flags().StringVar(&lang, "lang", "en", "headers in en (comma separated) or fr (semicolon separated)")
	inv.Flags().StringVarP(&file, "file", "f", "", "write to this file instead of standard output")
	cmd.AddCommand(inv)
	return cmd
}

// progressReader reports how much of a body was read.
type progressReader struct {
	r           io.Reader
	done, total int64
	last        int64
	report      func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if (p.done-p.last > p.total/20 && p.done < p.total) || (err == io.EOF && p.last < p.done) {
		p.last = p.done
		p.report(p.done, p.total)
	}
	return n, err
}
