package ctl

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parc-project/parc/controlplane/adminapi"
)

func (a *app) clusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "the etcd members, which is down, who leads etcd and who reconciles; add and remove members (admin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var st adminapi.ClusterStatus
			if err := c.Do(cmd.Context(), http.MethodGet, adminapi.PathCluster, nil, &st); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(st)
			}
			rows := make([][]string, 0, len(st.Members))
			for _, m := range st.Members {
				state := "healthy"
				switch {
				case !m.Started:
					state = "added, not started"
				case !m.Healthy:
					state = "DOWN: " + oneLine(m.Error, 60)
				}
				role := "-"
				if m.Leader {
					role = "etcd leader"
				}
				if m.Name == st.ReconcilerLeader {
					role = strings.TrimPrefix(role+", reconciles", "-, ")
				}
				size := "-" // not asked as itself from the replica that answered
				if m.DBSize > 0 {
					size = fmt.Sprintf("%.1f MiB", float64(m.DBSize)/(1<<20))
				}
				rows = append(rows, []string{dash(m.Name), m.ID, strings.Join(m.PeerURLs, " "), state, role, size})
			}
			if err := a.table([]string{"NAME", "ID", "PEER URL", "STATE", "ROLE", "DB SIZE"}, rows); err != nil {
				return err
			}
			names := make([]string, len(st.Replicas))
			for i, r := range st.Replicas {
				names[i] = r.Name
			}
			fmt.Fprintf(a.out, "answered by %s; etcd leader %s; reconciles: %s; replicas running: %s\n",
				st.Replica, dash(st.EtcdLeader), dash(st.ReconcilerLeader), dash(strings.Join(names, ", ")))
			return nil
		},
	}
	add := &cobra.Command{
		Use:   "add-member NAME PEER_URL",
		Short: "add an etcd member, then start its parc-server with the flags printed (one member at a time)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var added adminapi.MemberAdded
			if err := c.Do(cmd.Context(), http.MethodPost, adminapi.PathClusterMembers,
				adminapi.MemberAddRequest{Name: args[0], PeerURL: args[1]}, &added); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(added)
			}
			fmt.Fprintf(a.out, "member %s added (id %s). Start its parc-server now, with the cluster's ca.crt and ca.key in its data dir and:\n"+
				"  --name %s --etcd-name %s --etcd-peer-url %s --etcd-client-url http://HOST:2379 \\\n  --etcd-initial-cluster %s --etcd-initial-cluster-state %s\n",
				args[0], added.Member.ID, args[0], args[0], args[1], added.InitialCluster, added.InitialClusterState)
			return nil
		},
	}
	remove := &cobra.Command{
		Use:   "remove-member NAME",
		Short: "remove an etcd member (its parc-server stops serving; stop it and delete its data dir)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var removed adminapi.EtcdMember
			if err := c.Do(cmd.Context(), http.MethodDelete, adminapi.PathClusterMembers+"/"+url.PathEscape(args[0]), nil, &removed); err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(removed)
			}
			fmt.Fprintf(a.out, "member %s (id %s) removed. Stop its parc-server and delete its data dir before it ever joins again.\n", removed.Name, removed.ID)
			return nil
		},
	}
	cmd.AddCommand(add, remove)
	return cmd
}
