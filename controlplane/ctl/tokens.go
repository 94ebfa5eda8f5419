package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) tokensCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "create, list and revoke the tokens people use (admin only)"}
	var req adminapi.TokenRequest
	var quiet bool
	create := &cobra.Command{
		Use:   "create",
		Short: "create a user token with a role (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var tok adminapi.Token
			if err := c.Do(cmd.Context(), http.MethodPost, adminapi.PathTokens, req, &tok); err != nil {
				return fmt.Errorf("creating token: %w", err)
			}
			if a.json() {
				return a.printJSON(tok)
			}
			if quiet {
				fmt.Fprintln(a.out, tok.Token)
				return nil
			}
			fmt.Fprintf(a.out, "%s\n\nid: %s  name: %s  role: %s  expires: %s\n", tok.Token, tok.ID, tok.Name, tok.Role, when(tok.ExpiresAt, "never"))
			fmt.Fprintln(a.out, "Shown once: the server keeps only its hash. Give it to its holder, who sets PARC_TOKEN or --token-file.")
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&req.Name, "name", "", "who holds the token, e.g. jdoe or ecole-a-secretariat (required)")
	f.StringVar(&req.Role, "role", "", "admin, technician, coordinator or viewer (required)")
	f.StringVar(&req.TTL, "ttl", "", "validity, e.g. 2160h (default: until revoked)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the token (for scripts)")
	create.MarkFlagRequired("name")
	create.MarkFlagRequired("role")

	list := &cobra.Command{
		Use:   "list",
		Short: "list user tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var l adminapi.TokenList
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathTokens, nil, &l); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(l.Tokens)
			}
			rows := make([][]string, 0, len(l.Tokens))
			for _, t := range l.Tokens {
				rows = append(rows, []string{t.ID, t.Name, t.Role, t.CreatedAt.Local().Format(time.DateTime), dash(t.CreatedBy), when(t.ExpiresAt, "never")})
			}
			return a.table([]string{"ID", "NAME", "ROLE", "CREATED", "BY", "EXPIRES"}, rows)
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "revoke a user token at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), http.MethodDelete, adminapi.PathTokens+"/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return fmt.Errorf("revoking token %s: %w", args[0], err)
			}
			fmt.Fprintf(a.out, "token %s revoked\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// when formats an optional time, or says what its absence means.
func when(t *time.Time, absent string) string {
	if t == nil {
		return absent
	}
	return t.Local().Format(time.DateTime)
}
