package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

// child is a server this benchmark runs as a child process of itself
// ("parc-bench serve" or "parc-bench etcd"), so that its memory and CPU
// are its own.
type child struct {
	cmd     *exec.Cmd
	done    chan struct{}
	dataDir string
	// URL of parc's API ("" for raw etcd) and of the etcd member.
	URL, EtcdURL string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startChild starts "parc-bench <sub>" with a fresh data dir under dir and
// waits until it answers. extra flags go to the server's configuration.
func startChild(ctx context.Context, sub, dir string, extra ...string) (*child, error) {
	ports := make([]int, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	dataDir, err := os.MkdirTemp(dir, sub+"-")
	if err != nil {
		return nil, err
	}
	c := &child{dataDir: dataDir, EtcdURL: fmt.Sprintf("http://127.0.0.1:%d", ports[1]), done: make(chan struct{})}
	args := []string{sub, "--data-dir", dataDir, "--log-level", "warn",
		"--etcd-client-url", c.EtcdURL, "--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", ports[2])}
	if sub == "serve" {
		c.URL = fmt.Sprintf("https://127.0.0.1:%d", ports[0])
		args = append(args, "--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]))
	}
	args = append(args, extra...)
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c.cmd = exec.Command(exe, args...)
	log, err := os.Create(filepath.Join(dir, filepath.Base(dataDir)+".log"))
	if err != nil {
		return nil, err
	}
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s: %w", sub, err)
	}
	go func() { c.cmd.Wait(); log.Close(); close(c.done) }()
	if err := c.waitReady(ctx, 2*time.Minute); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s (log: %s): %w", sub, log.Name(), err)
	}
	return c, nil
}

func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return fmt.Errorf("exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c.ready(ctx) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", timeout)
}

func (c *child) ready(ctx context.Context) bool {
	if c.URL == "" {
		cli, err := c.etcd()
		if err != nil {
			return false
		}
		defer cli.Close()
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = cli.Status(sctx, c.EtcdURL)
		return err == nil
	}
	hc, err := c.httpClient(5 * time.Second)
	if err != nil {
		return false
	}
	resp, err := hc.Get(c.URL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// httpClient trusts the server's CA, from its data dir.
func (c *child) httpClient(timeout time.Duration) (*http.Client, error) {
	data, err := os.ReadFile(filepath.Join(c.dataDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	cas, err := agentapi.ParseCertificates(data)
	if err != nil {
		return nil, err
	}
	return client.PinnedHTTPClient(cas, timeout), nil
}

func (c *child) adminToken() (string, error) {
	data, err := os.ReadFile(filepath.Join(c.dataDir, "admin.token"))
	return strings.TrimSpace(string(data)), err
}

func (c *child) etcd() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{c.EtcdURL}, DialTimeout: 5 * time.Second,
		MaxCallRecvMsgSize: 64 << 20, Logger: zap.NewNop()})
}

// rss returns the child's resident set and its peak, in bytes.
func (c *child) rss() (cur, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return cur, peak, nil
}

// stop ends the child with SIGTERM (it writes its profile then), SIGKILL
// after a while, and removes its data dir.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	os.RemoveAll(c.dataDir)
}

// cpuTime returns the CPU time (user + system) process pid used so far;
// pid 0 is this process.
func cpuTime(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis. utime and stime are fields 14
	// and 15 of the line, in clock ticks (100 a second on Linux).
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: too few fields", path)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: unreadable utime or stime", path)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// cpu returns the child's CPU time so far.
func (c *child) cpu() time.Duration {
	d, _ := cpuTime(c.cmd.Process.Pid)
	return d
}
