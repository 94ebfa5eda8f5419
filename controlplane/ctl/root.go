// Package ctl is parcctl, the command line for technicians, coordinators
// and administrators: each file adds the commands of one area of the admin
// API.
package ctl

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

// app is what every command needs: where to print and how to reach the
// server.
type app struct {
	v   *viper.Viper
	out io.Writer
}

// NewRootCommand returns parcctl's command tree, printing to out.
func NewRootCommand(out io.Writer) *cobra.Command {
	a := &app{v: viper.New(), out: out}
	root := &cobra.Command{
		Use:           "parcctl",
		Short:         "parcctl: the command line of parc (units, readiness, loans, continuity)",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadConfig(cmd)
		},
	}
	root.SetOut(out)
	pf := root.PersistentFlags()
	pf.String("server", "", "parc-server URL (PARC_SERVER)")
	pf.String("token", "", "user token (PARC_TOKEN)")
	pf.String("token-file", "", "file holding the user token, such as the server's admin.token (PARC_TOKEN_FILE)")
	pf.String("ca-file", "", "CA certificate to trust for the server, such as the server's ca.crt (PARC_CA_FILE; default: the system's)")
	pf.String("config", "", "config file (default ~/.config/parc/parcctl.yaml)")
	pf.StringP("output", "o", "table", "output format: table or json")
	pf.String("lang", "", "language of messages: en or fr (default: from LANG)")
	root.AddCommand(a.statusCommand(), a.unitsCommand(), a.enrollTokenCommand(), a.readinessCommand(),
		a.sitesCommand(), a.classroomsCommand(), a.cartsCommand(), a.importCommand(), a.exportCommand())
	root.AddCommand(a.tokensCommand(), a.agentsCommand(), a.auditCommand(), a.clusterCommand())
	root.AddCommand(a.loansCommand(), a.continuityCommand(), a.needsCommand(), a.reserveCommand(), a.privacyCommand())
	return root
}

func (a *app) loadConfig(cmd *cobra.Command) error {
	if err := a.v.BindPFlags(cmd.Flags()); err != nil {
		return err
	}
	a.v.SetEnvPrefix("PARC")
	a.v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	a.v.AutomaticEnv()
	file := a.v.GetString("config")
	if file == "" {
		if dir, err := os.UserConfigDir(); err == nil {
			if p := filepath.Join(dir, "parc", "parcctl.yaml"); fileExists(p) {
				file = p
			}
		}
	}
	if file != "" {
		a.v.SetConfigFile(file)
		if err := a.v.ReadInConfig(); err != nil {
			return fmt.Errorf("reading %s: %w", file, err)
		}
	}
	switch o := a.v.GetString("output"); o {
	case "table", "json":
	default:
		return fmt.Errorf("--output %q: want table or json", o)
	}
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func (a *app) client() (*Client, error) {
	token := a.v.GetString("token")
	if token == "" {
		if f := a.v.GetString("token-file"); f != "" {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading token file: %w", err)
			}
			token = strings.TrimSpace(string(data))
		}
	}
	hc, err := a.httpClient()
	if err != nil {
		return nil, err
	}
	return NewClient(a.v.GetString("server"), token, hc)
}

// httpTimeout bounds one admin API call; listing a large fleet page by
// page takes many.
const httpTimeout = 5 * time.Minute

// httpClient trusts only the CA of --ca-file when given (a server with its
// own CA), the system's roots otherwise (a server with a public
// certificate).
func (a *app) httpClient() (*http.Client, error) {
	f := a.v.GetString("ca-file")
	if f == "" {
		return &http.Client{Timeout: httpTimeout}, nil
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file (--ca-file, PARC_CA_FILE): %w", err)
	}
	certs, err := agentapi.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("CA file %s: %w", f, err)
	}
	return client.PinnedHTTPClient(certs, httpTimeout), nil
}

func (a *app) json() bool { return a.v.GetString("output") == "json" }

// lang is the language of messages: --lang, else French when LANG says so.
func (a *app) lang() string {
	if l := a.v.GetString("lang"); l == "fr" || l == "en" {
		return l
	}
	if strings.HasPrefix(os.Getenv("LANG"), "fr") {
		return "fr"
	}
	return "en"
}

// printJSON writes v indented.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes rows under a header, aligned. Cells hold what agents
// reported, which a hostile agent chooses: control characters are shown
// escaped, never sent to the terminal (an ESC sequence could rewrite the
// screen or the window title).
func (a *app) table(header []string, rows [][]string) error {
	w := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = printable(c)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}

// printable escapes control characters and invalid UTF-8 the way Go
// quotes them (\x1b), leaving everything else as it is.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) && utf8.ValidString(s) {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}
