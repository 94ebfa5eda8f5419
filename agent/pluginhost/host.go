// Package pluginhost runs parc-agent's plugins: it finds them in a
// directory, checks each binary's SHA-256 before starting it, starts a
// plugin only to collect and kills it after, bounds each collection by a
// timeout, and turns every way a plugin can fail into an error entry of the
// report, so that one bad plugin never costs the others.
package pluginhost

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/plugins/pluginapi"
)

// Host runs the configured plugins. It is safe for concurrent use, though
// the agent collects one cycle at a time.
type Host struct {
	cfg    Config
	sums   map[string][]byte
	log    *slog.Logger
	hclog  hclog.Logger
	suffix string
}

// New checks cfg (every problem at once) and returns a Host.
func New(cfg Config, log *slog.Logger) (*Host, error) {
	sums, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if cfg.TrustUnverified {
		log.Warn("plugins: trust_unverified is set: plugin binaries run without SHA-256 check (development only)", "dir", cfg.Dir)
	}
	h := &Host{cfg: cfg, sums: sums, log: log, hclog: newHCLogger(log)}
	if runtime.GOOS == "windows" {
		h.suffix = ".exe"
	}
	return h, nil
}

// plugin is one plugin to run in a cycle.
type pluginRun struct {
	name   string
	path   string
	sum    []byte // nil: unverified (TrustUnverified)
	config json.RawMessage
}

// outcome is what one plugin run left for the report.
type outcome struct {
	name   string
	desc   pluginapi.Description
	result pluginapi.Result
	err    error
}

// Collect runs every enabled plugin (at most Concurrency at a time) and puts
// their facts in r with r.SetFact. Each plugin that fails, and each fact that
// a plugin could not deliver or that does not decode, becomes an entry of
// r.Errors; the others' facts are kept. Results are applied in plugin-name
// order so that two cycles with the same facts make the same report.
func (h *Host) Collect(ctx context.Context, r *agentapi.Report) {
	runs, errs := h.plan()
	r.Errors = append(r.Errors, errs...)

	outcomes := make([]outcome, len(runs))
	sem := make(chan struct{}, h.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, p := range runs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i] = h.run(ctx, p)
		})
	}
	wg.Wait()

	owner := make(map[string]string) // fact name → plugin that delivered it
	for _, o := range outcomes {
		source := "plugin " + o.name
		if o.err != nil {
			r.Errors = append(r.Errors, agentapi.FactError{Source: source, Message: o.err.Error()})
			continue
		}
		r.Errors = append(r.Errors, o.result.Errors...)
		for _, fact := range slices.Sorted(maps.Keys(o.result.Facts)) {
			if err := checkFact(o, fact, owner[fact]); err != nil {
				r.Errors = append(r.Errors, agentapi.FactError{Source: source, Fact: fact, Message: err.Error()})
				continue
			}
			owner[fact] = o.name
			if err := r.SetFact(fact, o.result.Facts[fact]); err != nil {
				r.Errors = append(r.Errors, agentapi.FactError{Source: source, Fact: fact, Message: err.Error()})
			}
		}
	}
}

// checkFact refuses a fact its plugin did not declare, one another plugin
// already delivered, and one that does not decode. The last is tried on a
// scratch report first because Report.SetFact clears a section it fails to
// decode, which would erase a good value set earlier.
func checkFact(o outcome, fact, owner string) error {
	if !slices.Contains(o.desc.Facts, fact) {
		return fmt.Errorf("plugin delivered fact %q it does not declare (declares %s): ignored", fact, strings.Join(o.desc.Facts, ", "))
	}
	if owner != "" {
		return fmt.Errorf("fact %q already delivered by plugin %s: ignored (configure only one of them)", fact, owner)
	}
	var scratch agentapi.Report
	return scratch.SetFact(fact, o.result.Facts[fact])
}

// plan lists the plugins to run this cycle, sorted by name, and the errors
// of configured plugins that cannot run. The directory is read every cycle
// so that a plugin installed or removed later is seen without a restart.
func (h *Host) plan() ([]pluginRun, []agentapi.FactError) {
	var runs []pluginRun
	var errs []agentapi.FactError
	configured := make(map[string]bool, len(h.cfg.Plugins))
	for _, p := range h.cfg.Plugins {
		configured[p.Name] = true
		if p.Disabled {
			continue
		}
		path := filepath.Join(h.cfg.Dir, BinaryPrefix+p.Name+h.suffix)
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, agentapi.FactError{Source: "plugin " + p.Name,
				Message: fmt.Sprintf("binary not usable: %v", err)})
			continue
		}
		runs = append(runs, pluginRun{name: p.Name, path: path, sum: h.sums[p.Name], config: p.Config})
	}

	entries, err := os.ReadDir(h.cfg.Dir)
	if err != nil {
		errs = append(errs, agentapi.FactError{Source: "plugins", Message: fmt.Sprintf("reading plugin directory: %v", err)})
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), BinaryPrefix)
		if !ok || e.IsDir() || configured[strings.TrimSuffix(name, h.suffix)] {
			continue
		}
		if h.suffix != "" && !strings.HasSuffix(name, h.suffix) {
			continue
		}
		name = strings.TrimSuffix(name, h.suffix)
		if !h.cfg.TrustUnverified || !validName.MatchString(name) {
			h.log.Warn("plugin binary found but not configured: not run (add it to plugins with its sha256)", "plugin", name, "dir", h.cfg.Dir)
			continue
		}
		runs = append(runs, pluginRun{name: name, path: filepath.Join(h.cfg.Dir, e.Name())})
	}
	slices.SortFunc(runs, func(a, b pluginRun) int { return cmp.Compare(a.name, b.name) })
	return runs, errs
}

// run starts one plugin, collects from it and kills it, all within the
// timeout. Its error is the message a technician reads in the report.
func (h *Host) run(ctx context.Context, p pluginRun) (o outcome) {
	o.name = p.name
	log := h.log.With("plugin", p.name)
	if p.sum == nil {
		if sum, err := fileSHA256(p.path); err == nil {
			log.Warn("running unverified plugin (trust_unverified)", "sha256", sum, "path", p.path)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	stderr := &tail{max: 8 << 10}
	cc := &plugin.ClientConfig{
		HandshakeConfig:  pluginapi.Handshake(),
		Plugins:          pluginapi.PluginSet(nil),
		Cmd:              exec.Command(p.path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// Start cannot be cancelled by ctx; giving it the whole timeout
		// keeps it within the same bound.
		StartTimeout: h.cfg.Timeout,
		Stderr:       stderr,
		Logger:       h.hclog.Named(p.name),
	}
	if p.sum != nil {
		cc.SecureConfig = &plugin.SecureConfig{Checksum: p.sum, Hash: sha256.New()}
	}
	client := plugin.NewClient(cc)
	defer client.Kill()

	fail := func(stage string, err error) outcome {
		o.err = h.explain(ctx, stage, err, client, stderr, p)
		log.Warn("plugin failed", "err", o.err)
		return o
	}
	rpc, err := client.Client()
	if err != nil {
		return fail("start", err)
	}
	raw, err := rpc.Dispense(pluginapi.PluginKey)
	if err != nil {
		return fail("start", err)
	}
	coll, ok := raw.(pluginapi.Collector)
	if !ok {
		return fail("start", fmt.Errorf("dispensed %T, not a collector", raw))
	}
	if o.desc, err = coll.Describe(ctx); err != nil {
		return fail("describe", err)
	}
	if o.desc.Name != p.name {
		return fail("describe", fmt.Errorf("binary %s says it is plugin %q: rename the binary or fix the configuration", filepath.Base(p.path), o.desc.Name))
	}
	if o.result, err = coll.Collect(ctx, p.config); err != nil {
		return fail("collect", err)
	}
	log.Debug("plugin collected", "version", o.desc.Version, "facts", len(o.result.Facts), "errors", len(o.result.Errors))
	return o
}

// explain turns a plugin failure into one line: why, and what to do.
func (h *Host) explain(ctx context.Context, stage string, err error, client *plugin.Client, stderr *tail, p pluginRun) error {
	switch {
	// The plugin side sees the deadline too (gRPC passes it on) and may
	// report it a moment before ctx itself expires here.
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded), status.Code(err) == codes.DeadlineExceeded:
		return fmt.Errorf("timed out after %s (during %s)", h.cfg.Timeout, stage)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("cancelled during %s", stage)
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("refused to run %s: its SHA-256 does not match the configuration (binary replaced, or configuration not updated after an upgrade)", p.path)
	}
	msg := strings.TrimSpace(err.Error())
	// A crash shows first as a broken connection; the process's exit and
	// the rest of its stderr follow a moment later.
	waitExit(ctx, client, time.Second)
	crash, panicked := stderr.crashLine()
	switch {
	case panicked || (crash != "" && client.Exited() && stage != "start"):
		return fmt.Errorf("crashed during %s: %s", stage, crash)
	case stage == "start":
		return fmt.Errorf("did not start: %s", firstLine(msg))
	case client.Exited():
		return fmt.Errorf("exited during %s: %s", stage, firstLine(msg))
	}
	return fmt.Errorf("%s failed: %s", stage, firstLine(msg))
}

// waitExit waits up to d (bounded by ctx) for the plugin process to exit.
func waitExit(ctx context.Context, client *plugin.Client, d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !client.Exited() {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// tail keeps the last max bytes written to it: a plugin's stderr, where a
// Go panic leaves its message.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// crashLine returns the line of stderr that best says why the plugin died:
// the Go panic or fatal error message (panicked is then true), else the
// last line that is not a structured log entry.
func (t *tail) crashLine() (line string, panicked bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(string(t.buf), "\n")
	last := ""
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return truncate(l, 300), true
		}
		if l != "" && !strings.HasPrefix(l, "{") { // skip hclog JSON log lines
			last = l
		}
	}
	return truncate(last, 300), false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
