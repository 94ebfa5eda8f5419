package local_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parc-project/parc/controlplane/servertest"
)

// freeBase returns a port base whose nine ports cluster.sh uses (base+1..3,
// +11..13, +21..23) were free a moment ago.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.N(40000)
		free := true
		for _, off := range []int{1, 2, 3, 11, 12, 13, 21, 22, 23} {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+off))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port range for the cluster")
	return 0
}

// TestMakeRunCluster runs `make run-cluster`'s script as a new user would:
// three members come up under one CA, parcctl cluster shows them all with
// an etcd leader and a reconciler, and Ctrl-C stops all three cleanly.
func TestMakeRunCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local 3-member cluster")
	}
	bin := servertest.Binaries(t)
	work := t.TempDir()
	if err := os.MkdirAll(work+"/deploy/local", 0o755); err != nil {
		t.Fatal(err)
	}
	script, _ := os.ReadFile("cluster.sh")
	os.WriteFile(work+"/deploy/local/cluster.sh", script, 0o755)

	cmd := exec.Command("bash", work+"/deploy/local/cluster.sh")
	cmd.Env = append(os.Environ(), "BIN="+bin, fmt.Sprintf("PARC_CLUSTER_BASE_PORT=%d", freeBase(t)))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("make run-cluster printed:\n%s", out.String())
		}
	}()
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(out.String(), "parc runs as a 3-member cluster"); {
		select {
		case err := <-done:
			t.Fatalf("make run-cluster exited while starting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster did not come up within 90s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	o := out.String()
	if !strings.Contains(o, "replicas running: m1, m2, m3") || strings.Count(o, "healthy") < 3 || !strings.Contains(o, "etcd leader m") || strings.Contains(o, "reconciles: -") {
		t.Errorf("parcctl cluster as printed: want three healthy members, an etcd leader and a reconciler")
	}

	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("make run-cluster did not stop within 30s of Ctrl-C")
	}
	if o := out.String(); strings.Count(o, "parc-server stopped cleanly") != 3 || !strings.Contains(o, "stopped.") {
		t.Errorf("not all three stopped cleanly")
	}
}
