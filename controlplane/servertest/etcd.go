package servertest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Etcd is an external etcd process, as an organisation would run it.
type Etcd struct {
	// Endpoint is its client URL.
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	logs     bytes.Buffer
}

// StartEtcd starts a single-member etcd on free ports in a temp dir and
// waits until it answers. It is killed when the test ends.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	e := &Etcd{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)), done: make(chan struct{})}
	peer := fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
	e.cmd = exec.Command(Bin(t, "testetcd"),
		"--name", "external", "--data-dir", t.TempDir(),
		"--listen-client-urls", e.Endpoint, "--advertise-client-urls", e.Endpoint,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "external="+peer, "--log-level", "warn")
	e.cmd.Stdout, e.cmd.Stderr = &e.logs, &e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting etcd: %v", err)
	}
	go func() { e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		_ = e.cmd.Process.Kill()
		<-e.done
	})

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	defer cli.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Get(ctx, "health")
		cancel()
		if err == nil {
			return e
		}
		select {
		case <-e.done:
			t.Fatalf("etcd exited while starting:\n%s", e.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd not answering after a minute: %v\n%s", err, e.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client returns an etcd client for endpoint, closed when the test ends.
func Client(t testing.TB, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
