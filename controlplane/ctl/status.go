package ctl

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) statusCommand() *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "say whether the server is up and ready (its etcd answers)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			server := strings.TrimRight(a.v.GetString("server"), "/")
			if server == "" {
				return fmt.Errorf("no server: pass --server or set PARC_SERVER")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), max(wait, time.Second))
			defer cancel()
			var lastErr error
			for {
				// The CA file may not exist yet: a server on its first
				// start writes it just before it listens.
				hc, err := a.httpClient()
				if err == nil {
					hc.Timeout = 3 * time.Second
					lastErr = ready(ctx, hc, server+"/readyz")
				} else {
					lastErr = err
				}
				if lastErr == nil {
					fmt.Fprintf(a.out, "%s: ready\n", server)
					return nil
				}
				if wait == 0 {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("%s not ready after %s: %w", server, wait, lastErr)
				case <-time.After(200 * time.Millisecond):
				}
			}
			return fmt.Errorf("%s not ready: %w", server, lastErr)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "keep asking until ready or this long has passed")
	return cmd
}

func ready(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return withTLSHint(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
