package ctl

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) enrollTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "enroll-token", Short: "create tokens with which agents enroll"}
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
			fmt.Fprintf(a.out, "%s\n\nsite: %s  role: %s  expires: %s  uses: %s\n", tok.Token, dash(tok.Site), dash(tok.Role), expires, uses)
			fmt.Fprintf(a.out, "Enroll an agent with: parc-agent --server URL --enroll-token %s\n", tok.Token)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&req.Site, "site", "", "site the enrolled units belong to")
	f.StringVar(&req.Role, "role", "", "role the enrolled units are judged by until declared (loaner, classroom, teacher, kiosk, spare)")
	f.StringVar(&req.TTL, "ttl", "", "validity, e.g. 72h (default: no expiry)")
	f.IntVar(&req.MaxUses, "max-uses", 0, "how many agents may enroll with it (default: unlimited)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the token (for scripts)")
	cmd.AddCommand(create)
	return cmd
}
