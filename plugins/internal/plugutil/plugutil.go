// Package plugutil holds what parc's own plugins share beyond pluginapi:
// running a tool with a bound on time and output, and telling "not
// installed" apart from "failed".
package plugutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNotInstalled is returned by Run when the tool is not on this machine.
// Plugins report it as Installed:false, never as an error.
var ErrNotInstalled = errors.New("not installed")

// maxOutput bounds what Run keeps of a tool's output: the longest honest
// answer (apt-get -s upgrade on a machine months behind) is well below it.
const maxOutput = 16 << 20

// ExitError is a tool that ran and exited with a non-zero code. Some tools
// answer with their code (clamscan 1: infected; dnf check-update 100:
// updates pending), so callers look at Code before calling it a failure.
type ExitError struct {
	Tool   string
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s exited with code %d", e.Tool, e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Run runs tool with args in the C locale (so that output is parseable
// whatever the machine's language) and returns its standard output. A tool
// missing from PATH gives ErrNotInstalled; a non-zero exit gives *ExitError
// together with the output.
func Run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tool, ErrNotInstalled)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	// A killed tool's children (apt-get's methods, a shell's sleep) may
	// hold its output pipes open; stop waiting for them soon after.
	cmd.WaitDelay = 500 * time.Millisecond
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxOutput, 4096
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", tool, ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.Bytes(), &ExitError{Tool: tool, Code: exit.ExitCode(), Stderr: firstLine(stderr.String())}
	}
	if err != nil {
		return nil, fmt.Errorf("running %s: %w", tool, err)
	}
	return stdout.Bytes(), nil
}

// ExitCode returns the exit code carried by err, or -1.
func ExitCode(err error) int {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// Installed reports whether tool is on PATH.
func Installed(tool string) bool {
	_, err := exec.LookPath(tool)
	return err == nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// limitedBuffer keeps the first max bytes written and drops the rest, so a
// runaway tool cannot exhaust the plugin's memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
