package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) agentsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "agents", Short: "see, rotate and revoke agent credentials"}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "show the state of an agent's credential",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.agentCall(cmd, http.MethodGet, args[0], "", nil)
		},
	}
	var reason string
	revoke := &cobra.Command{
		Use:   "revoke ID --reason TEXT",
		Short: "revoke an agent for good (unit retired, credential stolen); it can come back only by enrolling with a new token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.agentCall(cmd, http.MethodPost, args[0], "/revoke", adminapi.RevokeRequest{Reason: reason})
		},
	}
	revoke.Flags().StringVar(&reason, "reason", "", "why, for the audit log: retired, stolen, ... (required)")
	revoke.MarkFlagRequired("reason")
	rotate := &cobra.Command{
		Use:   "rotate ID",
		Short: "make an agent rotate its credential at its next check-in (credential may have been copied, unit still in hand)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.agentCall(cmd, http.MethodPost, args[0], "/rotate", struct{}{})
		},
	}
	cmd.AddCommand(show, revoke, rotate)
	return cmd
}

func (a *app) agentCall(cmd *cobra.Command, method, id, action string, body any) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var v adminapi.AgentCredential
	if err := c.Do(cmd.Context(), method, adminapi.PathAgents+"/"+url.PathEscape(id)+action, body, &v); err != nil {
		return fmt.Errorf("agent %s: %w", id, err)
	}
	if a.json() {
		return a.printJSON(v)
	}
	state := "valid"
	switch {
	case v.Revoked:
		state = fmt.Sprintf("revoked %s by %s: %s", when(v.RevokedAt, "-"), dash(v.RevokedBy), dash(v.RevokeReason))
	case v.RotationPending:
		state = "valid, rotation awaiting the agent's confirmation"
	case v.RotateRequested:
		state = "valid, rotation requested at the next check-in"
	}
	return a.table([]string{"FIELD", "VALUE"}, [][]string{
		{"id", v.ID}, {"hostname", v.Hostname}, {"site", dash(v.Site)},
		{"enrolled", v.EnrolledAt.Local().Format(time.DateTime) + " with enroll token " + dash(v.EnrollToken)},
		{"credential", state}, {"expires", when(v.ExpiresAt, "never")}, {"rotated", when(v.RotatedAt, "never")},
	})
}
