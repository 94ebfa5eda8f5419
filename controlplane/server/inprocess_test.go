package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/spf13/pflag"

	"github.com/parc-project/parc/controlplane/config"
	"github.com/parc-project/parc/controlplane/server"
	"github.com/parc-project/parc/controlplane/servertest"
)

// inProcess runs parc-server inside the test, on embedded etcd, behind an
// httptest server (plain HTTP: these tests are about the API, TLS has its
// own), so a test can reach its parts (Router, Tokens) directly.
func inProcess(t *testing.T, args ...string) (*server.Server, *httptest.Server) {
	t.Helper()
	fs := pflag.NewFlagSet("parc-server", pflag.ContinueOnError)
	config.Flags(fs)
	base := []string{"--data-dir", t.TempDir(), "--insecure-http",
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", servertest.FreePort(t)),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", servertest.FreePort(t))}
	if err := fs.Parse(append(base, args...)); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return srv, hs
}
