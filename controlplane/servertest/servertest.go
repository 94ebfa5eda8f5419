// Package servertest starts real parc binaries and servers for tests: built
// once per test process, on random free ports on 127.0.0.1, in temp dirs,
// stopped when the test ends.
package servertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Commands built by Binaries, by name.
var commands = map[string]string{
	"parc-server": "./controlplane/cmd/parc-server",
	"parcctl":     "./controlplane/cmd/parcctl",
	"parc-agent":  "./agent/cmd/parc-agent",
	"testetcd":    "./controlplane/servertest/testetcd",
}

// Binaries builds parc's commands once per test process and returns the
// directory holding them. Call Cleanup from TestMain to remove it.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "parc-bin-")
		if err != nil {
			buildErr = err
			return
		}
		args := []string{"build", "-o", buildDir + string(os.PathSeparator)}
		for _, pkg := range commands {
			args = append(args, pkg)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building parc binaries: %v", buildErr)
	}
	return buildDir
}

// Cleanup removes the binaries Binaries built.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Bin returns the path of a built command.
func Bin(t testing.TB, name string) string {
	return filepath.Join(Binaries(t), name)
}

func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the module")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Server is a parc-server process, serving HTTPS under the CA it made in
// its data dir (HTTP with Options.InsecureHTTP).
type Server struct {
	t testing.TB
	// URL is https://127.0.0.1:port (http:// with InsecureHTTP). Call it
	// with HTTPClient, which trusts the server's CA.
	URL     string
	DataDir string
	// Args are the flags it runs with (Restart reuses them).
	Args []string
	// EtcdClientURL is the embedded member's client URL ("" when external).
	EtcdClientURL string
	// Name is the replica's and its etcd member's name in a cluster
	// (StartCluster, Options.Member), and EtcdPeerURL its member's peer URL.
	Name, EtcdPeerURL string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs *bytes.Buffer
	http *http.Client
}

// Options shape a server.
type Options struct {
	// DataDir to use; a fresh temp dir when empty.
	DataDir string
	// EtcdEndpoints makes the server use an external etcd.
	EtcdEndpoints []string
	// Args are added to the command line.
	Args []string
	// InsecureHTTP runs the server with --insecure-http, for the tests
	// about plain HTTP itself; every other test runs over TLS.
	InsecureHTTP bool
	// ReplicaOf makes this server another replica of a running one (give
	// both the same EtcdEndpoints): its CA and admin token are copied into
	// the new data dir before the first start, as an operator adding a
	// replica does. Replicas must share the CA agents pin.
	ReplicaOf *Server
	// Member makes the server a member of an embedded etcd cluster.
	Member *Member
}

// Member is a server's place in an embedded etcd cluster.
type Member struct {
	// Name of the member and the replica.
	Name string
	// PeerURL of its etcd member; a free port when empty.
	PeerURL string
	// InitialCluster and State are --etcd-initial-cluster and
	// --etcd-initial-cluster-state.
	InitialCluster, State string
}

// StartServer starts parc-server on free ports and waits until it is ready.
// It is stopped (SIGKILL if need be) when the test ends.
func StartServer(t testing.TB, opt Options) *Server {
	t.Helper()
	s := prepare(t, opt)
	s.start()
	s.WaitReady(time.Minute)
	return s
}

// StartCluster starts n parc-servers on free ports, each a member of one
// new embedded etcd cluster named m1..mn, as an operator does: a CA made
// with parc-server init-ca copied into every data dir, every member started
// with the same initial cluster, and the admin token (written by whichever
// member bootstrapped) copied to the others. It waits until all are ready.
// args are added to every member's command line.
func StartCluster(t testing.TB, n int, args ...string) []*Server {
	t.Helper()
	caDir := t.TempDir()
	Run(t, nil, "parc-server", "init-ca", "--data-dir", caDir)
	members := make([]*Member, n)
	var initial []string
	for i := range members {
		members[i] = &Member{Name: fmt.Sprintf("m%d", i+1), PeerURL: fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)), State: "new"}
		initial = append(initial, members[i].Name+"="+members[i].PeerURL)
	}
	servers := make([]*Server, n)
	for i, m := range members {
		m.InitialCluster = strings.Join(initial, ",")
		dir := t.TempDir()
		for _, f := range []string{"ca.crt", "ca.key"} {
			data, err := os.ReadFile(filepath.Join(caDir, f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, f), data, 0o600)
			}
			if err != nil {
				t.Fatalf("copying the CA into %s: %v", dir, err)
			}
		}
		servers[i] = prepare(t, Options{DataDir: dir, Member: m, Args: args})
		servers[i].start()
	}
	for _, s := range servers {
		s.WaitReady(time.Minute)
	}
	var token []byte
	for _, s := range servers {
		if data, err := os.ReadFile(filepath.Join(s.DataDir, "admin.token")); err == nil {
			if token != nil {
				t.Fatalf("two members wrote a bootstrap admin token")
			}
			token = data
		}
	}
	if token == nil {
		t.Fatal("no member wrote the bootstrap admin token")
	}
	for _, s := range servers {
		if err := os.WriteFile(filepath.Join(s.DataDir, "admin.token"), token, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return servers
}

// prepare makes the Server opt describes, its data dir and flags, ready to
// start.
func prepare(t testing.TB, opt Options) *Server {
	t.Helper()
	dataDir := opt.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	port := FreePort(t)
	scheme := "https"
	if opt.InsecureHTTP {
		scheme = "http"
	}
	s := &Server{t: t, URL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, port), DataDir: dataDir}
	s.Args = []string{"--data-dir", dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "debug"}
	if opt.InsecureHTTP {
		s.Args = append(s.Args, "--insecure-http")
	}
	if len(opt.EtcdEndpoints) > 0 {
		s.Args = append(s.Args, "--etcd-endpoints", strings.Join(opt.EtcdEndpoints, ","))
	} else {
		s.EtcdClientURL = fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
		s.EtcdPeerURL = fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))
		if m := opt.Member; m != nil {
			if m.PeerURL != "" {
				s.EtcdPeerURL = m.PeerURL
			}
			s.Name = m.Name
			s.Args = append(s.Args, "--name", m.Name, "--etcd-name", m.Name, "--etcd-initial-cluster", m.InitialCluster,
				"--etcd-initial-cluster-state", m.State)
		}
		s.Args = append(s.Args, "--etcd-client-url", s.EtcdClientURL, "--etcd-peer-url", s.EtcdPeerURL)
	}
	s.Args = append(s.Args, opt.Args...)
	if opt.ReplicaOf != nil {
		for _, f := range []string{"ca.crt", "ca.key", "admin.token"} {
			data, err := os.ReadFile(filepath.Join(opt.ReplicaOf.DataDir, f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dataDir, f), data, 0o600)
			}
			if err != nil && !(f != "admin.token" && opt.InsecureHTTP) {
				t.Fatalf("copying %s of the first replica: %v", f, err)
			}
		}
	}
	started.Store(s.URL, s)
	t.Cleanup(func() {
		started.Delete(s.URL)
		s.Kill()
		if t.Failed() {
			t.Logf("parc-server log:\n%s", s.Logs())
		}
	})
	return s
}

func (s *Server) start() {
	s.t.Helper()
	s.mu.Lock()
	s.logs = &bytes.Buffer{}
	cmd := exec.Command(Bin(s.t, "parc-server"), s.Args...)
	cmd.Stdout, cmd.Stderr = syncWriter{&s.mu, s.logs}, syncWriter{&s.mu, s.logs}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		s.t.Fatalf("starting parc-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	s.mu.Unlock()
	go func() { cmd.Wait(); close(done) }()
}

type syncWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Logs returns what the server printed so far.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// WaitReady waits until /readyz answers 200.
func (s *Server) WaitReady(timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.t.Fatalf("parc-server exited while starting:\n%s", s.Logs())
		default:
		}
		// The CA appears in the data dir just before the server listens.
		if hc, err := s.httpClient(); err == nil {
			resp, err := hc.Get(s.URL + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("parc-server not ready after %s:\n%s", timeout, s.Logs())
}

// CAFile is the server's CA certificate in its data dir: what parcctl
// trusts with --ca-file, and what agents pin. "" with InsecureHTTP.
func (s *Server) CAFile() string {
	if strings.HasPrefix(s.URL, "http://") {
		return ""
	}
	return filepath.Join(s.DataDir, "ca.crt")
}

// HTTPClient returns a client for s.URL that trusts the server's CA and
// nothing else, as a pinned agent does.
func (s *Server) HTTPClient() *http.Client {
	s.t.Helper()
	hc, err := s.httpClient()
	if err != nil {
		s.t.Fatalf("client for %s: %v", s.URL, err)
	}
	return hc
}

func (s *Server) httpClient() (*http.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.http != nil {
		return s.http, nil
	}
	if s.CAFile() == "" {
		s.http = &http.Client{Timeout: time.Minute}
		return s.http, nil
	}
	data, err := os.ReadFile(s.CAFile())
	if err != nil {
		return nil, err
	}
	certs, err := agentapi.ParseCertificates(data)
	if err != nil {
		return nil, err
	}
	s.http = client.PinnedHTTPClient(certs, time.Minute)
	return s.http, nil
}

// Env is the environment in which parcctl reaches s as its admin:
// PARC_SERVER, PARC_TOKEN and PARC_CA_FILE.
func (s *Server) Env() []string {
	s.t.Helper()
	env := []string{"PARC_SERVER=" + s.URL, "PARC_TOKEN=" + s.AdminToken()}
	if ca := s.CAFile(); ca != "" {
		env = append(env, "PARC_CA_FILE="+ca)
	}
	return env
}

// started maps the URL of each running server to it, so Run can give
// parcctl the CA of the server a test names.
var started sync.Map

// withCA adds PARC_CA_FILE to parcctl's env when env or args name a
// server started by StartServer (PARC_SERVER=URL, --server URL) and env
// sets no CA file: tests written before TLS keep working unchanged. Not
// for parc-agent, which reads the same variable but must show that it
// pins the CA through its enroll token.
func withCA(name string, env, args []string) []string {
	if name != "parcctl" {
		return env
	}
	var url string
	for _, e := range env {
		if strings.HasPrefix(e, "PARC_CA_FILE=") {
			return env
		}
		if v, ok := strings.CutPrefix(e, "PARC_SERVER="); ok {
			url = v
		}
	}
	for i, a := range args {
		if a == "--server" && i+1 < len(args) {
			url = args[i+1]
		} else if v, ok := strings.CutPrefix(a, "--server="); ok {
			url = v
		}
	}
	if v, ok := started.Load(strings.TrimRight(url, "/")); ok {
		if ca := v.(*Server).CAFile(); ca != "" {
			return append(slices.Clone(env), "PARC_CA_FILE="+ca)
		}
	}
	return env
}

// AdminToken reads the admin token the server wrote on its first start.
func (s *Server) AdminToken() string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.DataDir, "admin.token"))
	if err != nil {
		s.t.Fatalf("reading admin token: %v", err)
	}
	return strings.TrimSpace(string(data))
}

// Kill sends SIGKILL and waits for the process to end.
func (s *Server) Kill() {
	s.signal(syscall.SIGKILL, 10*time.Second)
}

// Stop sends SIGTERM and waits for a clean exit, failing the test if the
// server does not exit within timeout or exits with an error.
func (s *Server) Stop(timeout time.Duration) {
	s.t.Helper()
	s.signal(syscall.SIGTERM, timeout)
	s.mu.Lock()
	state := s.cmd.ProcessState
	s.mu.Unlock()
	if state == nil || !state.Success() {
		s.t.Fatalf("parc-server did not stop cleanly (%v):\n%s", state, s.Logs())
	}
}

func (s *Server) signal(sig syscall.Signal, timeout time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts the server again with the same flags and data dir.
func (s *Server) Restart() {
	s.t.Helper()
	s.start()
	s.WaitReady(time.Minute)
}

// Run runs a command built by Binaries and returns its standard output;
// the test fails if it exits with an error. When env or args name a
// server StartServer started, parcctl is given its CA (PARC_CA_FILE).
func Run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, err := RunErr(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// RunErr runs a built command and returns its output and error.
func RunErr(t testing.TB, env []string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Bin(t, name), args...)
	cmd.Env = append(os.Environ(), withCA(name, env, args)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
