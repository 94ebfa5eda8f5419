package plugutil

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	if !Installed("sh") {
		t.Skip("sh not installed: this test needs a POSIX shell")
	}
	ctx := context.Background()
	out, err := Run(ctx, "sh", "-c", "echo $LC_ALL")
	if err != nil || strings.TrimSpace(string(out)) != "C" {
		t.Errorf("locale: out %q err %v, want C", out, err)
	}
	out, err = Run(ctx, "sh", "-c", "echo partial; echo broken >&2; exit 100")
	if ExitCode(err) != 100 || string(out) != "partial\n" || !strings.Contains(err.Error(), "broken") {
		t.Errorf("exit: out %q err %v, want code 100 with output and stderr", out, err)
	}
	if _, err := Run(ctx, "parc-no-such-tool-xyz"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing tool: err %v, want ErrNotInstalled", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := Run(ctx, "sh", "-c", "sleep 5"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err %v, want deadline exceeded", err)
	}
}

func TestLimitedBuffer(t *testing.T) {
	b := limitedBuffer{max: 4}
	n, err := b.Write([]byte("abcdef"))
	if n != 6 || err != nil || b.String() != "abcd" {
		t.Errorf("wrote %d %v, kept %q; want all accepted, abcd kept", n, err, b.String())
	}
}
