package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) enrollTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "enroll-token", Short: "create, list and revoke the tokens with which agents enroll"}
	var req adminapi.EnrollTokenRequest
	var quiet bool
	create := &cobra.Command{
		Use:   "create",
		Short: "create an enroll token (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var tok adminapi.EnrollToken
			if err := c.Do(cmd.Context(), http.MethodPost, adminapi.PathEnrollTokens, req, &tok); err != nil {
				return fmt.Errorf("creating enroll token: %w", err)
			}
			if a.json() {
				return a.printJSON(tok)
			}
			if quiet {
				fmt.Fprintln(a.out, tok.Token)
				return nil
			}
			expires := "never"
			if tok.ExpiresAt != nil {
				expires = tok.ExpiresAt.Local().Format(time.DateTime)
			}
			uses := "unlimited"
			if tok.MaxUses > 0 {
				uses = fmt.Sprint(tok.MaxUses)
			}
			fmt.Fprintf(a.out, "%s\n\nid: %s  site: %s  role: %s  expires: %s  uses: %s\n", tok.Token, tok.ID, dash(tok.Site), dash(tok.Role), expires, uses)
			fmt.Fprintf(a.out, "Enroll an agent with: parc-agent --server URL --enroll-token %s\n", tok.Token)
			if tok.CACertHash != "" {
				fmt.Fprintf(a.out, "The agent trusts only the server CA this token names (%s).\n", tok.CACertHash)
			}
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&req.Site, "site", "", "site the enrolled units belong to")
	f.StringVar(&req.Role, "role", "", "role the enrolled units are judged by until declared (loaner, classroom, teacher, kiosk, spare)")
	f.StringVar(&req.TTL, "ttl", "", "validity, e.g. 72h (default: no expiry)")
	f.IntVar(&req.MaxUses, "max-uses", 0, "how many agents may enroll with it (default: unlimited)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the token (for scripts)")
	list := &cobra.Command{
		Use:   "list",
		Short: "list enroll tokens and how much they were used (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var l adminapi.EnrollTokenList
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathEnrollTokens, nil, &l); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(l.Tokens)
			}
			now := time.Now()
			rows := make([][]string, 0, len(l.Tokens))
			for _, t := range l.Tokens {
				uses := fmt.Sprint(t.Uses)
				if t.MaxUses > 0 {
					uses += fmt.Sprintf("/%d", t.MaxUses)
				}
				state := "valid"
				switch {
				case t.Revoked:
					state = "revoked " + when(t.RevokedAt, "")
				case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
					state = "expired"
				case t.MaxUses > 0 && t.Uses >= t.MaxUses:
					state = "used up"
				}
				rows = append(rows, []string{t.ID, dash(t.Site), dash(t.Role), uses, when(t.ExpiresAt, "never"), state, dash(t.CreatedBy)})
			}
			return a.table([]string{"ID", "SITE", "ROLE", "USES", "EXPIRES", "STATE", "CREATED BY"}, rows)
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "revoke an enroll token: no agent enrolls with it any more (those enrolled keep their credentials)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var tok adminapi.EnrollToken
			if err := c.Do(cmd.Context(), http.MethodDelete, adminapi.PathEnrollTokens+"/"+url.PathEscape(args[0]), nil, &tok); err != nil {
				return fmt.Errorf("revoking enroll token %s: %w", args[0], err)
			}
			if a.json() {
				return a.printJSON(tok)
			}
			fmt.Fprintf(a.out, "enroll token %s revoked (%d agents enrolled with it keep their credentials)\n", tok.ID, tok.Uses)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
