// Package local holds `make run`'s script; this test runs it as a new user
// would and checks the README's promise: this machine shows up as a unit in
// parcctl units list within 10 seconds, and Ctrl-C stops everything.
package local_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parc-project/parc/controlplane/servertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

func TestMakeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local setup")
	}
	bin := servertest.Binaries(t)
	work := t.TempDir()
	// The script runs from the repository root and keeps its data in .run/;
	// run a copy of the layout in a temp dir so the developer's .run/ is
	// left alone.
	if err := os.MkdirAll(work+"/deploy/local", 0o755); err != nil {
		t.Fatal(err)
	}
	script, _ := os.ReadFile("run.sh")
	os.WriteFile(work+"/deploy/local/run.sh", script, 0o755)

	port := servertest.FreePort(t)
	cmd := exec.Command("bash", work+"/deploy/local/run.sh")
	cmd.Env = append(os.Environ(), "BIN="+bin,
		fmt.Sprintf("PARC_RUN_PORT=%d", port),
		fmt.Sprintf("PARC_RUN_ETCD_CLIENT_PORT=%d", servertest.FreePort(t)),
		fmt.Sprintf("PARC_RUN_ETCD_PEER_PORT=%d", servertest.FreePort(t)))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("make run printed:\n%s", out.String())
		}
	}()

	env := []string{fmt.Sprintf("PARC_SERVER=https://127.0.0.1:%d", port), "PARC_TOKEN_FILE=" + work + "/.run/server/admin.token",
		"PARC_CA_FILE=" + work + "/.run/server/ca.crt"}
	host, _ := os.Hostname()
	var list string
	for {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("this machine not in parcctl units list 10s after make run; last output:\n%s", list)
		}
		o, _, err := servertest.RunErr(t, env, "parcctl", "units", "list")
		list = o
		if err == nil && strings.Contains(o, host) && strings.Contains(o, "1 units") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("this machine listed %.1fs after make run", time.Since(start).Seconds())

	// The web UI: make run names this machine's page; signed in with the
	// admin token, it shows the unit and its readiness.
	var page string
	for page == "" {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("make run did not print this machine's web UI page within 20s")
		}
		if m := unitPage.FindStringSubmatch(out.String()); m != nil {
			page = m[1]
		}
		time.Sleep(100 * time.Millisecond)
	}
	body := signedInPage(t, work, port, page)
	for _, want := range []string{host, "Not ready", "Last seen"} {
		if !strings.Contains(body, want) {
			t.Errorf("this machine's page %s lacks %q:\n%s", page, want, body)
		}
	}

	// Ctrl-C: the terminal sends SIGINT to the whole foreground group.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("make run did not stop within 30s of Ctrl-C")
	}
	// The agent pinned the server's CA through its enroll token: the CA it
	// keeps is the server's.
	serverCA, _ := os.ReadFile(work + "/.run/server/ca.crt")
	agentCA, _ := os.ReadFile(work + "/.run/agent/ca.crt")
	if len(serverCA) == 0 || !bytes.Equal(serverCA, agentCA) || !strings.Contains(out.String(), "server CA pinned") {
		t.Errorf("the agent did not pin the server's CA (server %d bytes, agent %d bytes)", len(serverCA), len(agentCA))
	}
	for _, want := range []string{"parc is running", "stopped.", "parc-server stopped cleanly", "PARC_CA_FILE=", "/ui/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// unitPage finds the address of this machine's page in make run's output.
var unitPage = regexp.MustCompile(`this machine: (https://\S+/ui/units/[a-z0-9]+)`)

// signedInPage signs in to the web UI with the admin token make run wrote,
// as a browser does, and returns the page at addr.
func signedInPage(t *testing.T, work string, port int, addr string) string {
	t.Helper()
	caPEM, err := os.ReadFile(work + "/.run/server/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(work + "/.run/server/admin.token")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	origin := fmt.Sprintf("https://127.0.0.1:%d", port)
	form := url.Values{"token": {strings.TrimSpace(string(token))}, "next": {"/ui/"}}
	req, _ := http.NewRequest(http.MethodPost, origin+"/ui/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("signing in to the web UI: %v", err)
	}
	resp.Body.Close()
	resp, err = c.Get(addr)
	if err != nil {
		t.Fatalf("opening %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != addr {
		t.Fatalf("opening %s: %d at %s", addr, resp.StatusCode, resp.Request.URL)
	}
	return string(b)
}

// syncBuffer is a bytes.Buffer the script's output and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
