package sim

import (
	"container/heap"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

// LoadConfig describes a load run: how many agents, how often each checks
// in, how many change their report, and for how long.
type LoadConfig struct {
	ServerURL string
	// HTTPClient carries the trust (CA) for all agents; nil pins the CA the
	// enroll token names, fetched once.
	HTTPClient  *http.Client
	EnrollToken string
	Agents      int
	// Interval is each agent's check-in interval, spread by ±10% jitter.
	// Zero means back to back: each agent checks in again as soon as its
	// previous check-in ended (a closed loop measuring the maximum rate).
	Interval time.Duration
	// ChangeFraction is the fraction of check-ins whose report content
	// changed (a full report); the others are heartbeats.
	ChangeFraction float64
	// OfflineFraction of the agents enrol, then never check in.
	OfflineFraction float64
	// Duration is the run's length after enrolment.
	Duration time.Duration
	// Concurrency bounds the requests in flight (0: DefaultConcurrency).
	Concurrency int
	// Progress, if set, is called about every second.
	Progress func(Progress)
}

// DefaultConcurrency is the number of requests in flight when
// LoadConfig.Concurrency is 0.
const DefaultConcurrency = 64

// Progress is a load run's state, as reported while it runs.
type Progress struct {
	// Phase is "enrol" or "load".
	Phase                                     string
	Enrolled                                  int
	Elapsed                                   time.Duration // since the phase began
	CheckIns, FullReports, Heartbeats, Errors int64
}

// Ack is a full report the server acknowledged as durable.
type Ack struct {
	AgentID     string `json:"agent_id"`
	Seq         uint64 `json:"seq"`
	Fingerprint string `json:"fingerprint"`
}

// Result is what a load run achieved.
type Result struct {
	// CheckIns counts successful check-ins: FullReports + Heartbeats.
	CheckIns, FullReports, Heartbeats int64
	// Elapsed is the load phase's length (enrolment excluded).
	Elapsed time.Duration
	// Latency of successful check-ins.
	P50, P99, Max time.Duration
	// Errors counts failed requests by kind: "timeout", "http 503",
	// "connection refused", ...
	Errors map[string]int64
	// Acked lists every full report the server acknowledged.
	Acked []Ack
}

// Rate returns n per second of the run.
func (r *Result) Rate(n int64) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(n) / r.Elapsed.Seconds()
}

// requestTimeout bounds one request of an agent whose HTTP client the
// engine made itself.
const requestTimeout = 10 * time.Second

// RunLoad enrols cfg.Agents simulated agents concurrently, then drives
// their check-ins for cfg.Duration as the real agent does: a full report
// when the content changed or the server asks for one, a heartbeat
// otherwise; a report that failed is sent again, with the same sequence
// number, at the agent's next check-in. It returns an error only when the
// run could not start (bad configuration, enrolment refused).
func RunLoad(ctx context.Context, cfg LoadConfig, log *slog.Logger) (*Result, error) {
	if cfg.Agents <= 0 {
		return nil, fmt.Errorf("load: agents %d: want at least 1", cfg.Agents)
	}
	if cfg.ChangeFraction < 0 || cfg.ChangeFraction > 1 || cfg.OfflineFraction < 0 || cfg.OfflineFraction > 1 {
		return nil, fmt.Errorf("load: change %.2f, offline %.2f: fractions are 0 to 1", cfg.ChangeFraction, cfg.OfflineFraction)
	}
	agents, err := EnrollAgents(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return DriveLoad(ctx, cfg, agents, log), nil
}

// EnrollAgents is RunLoad's first half: it enrols cfg.Agents agents
// concurrently, each with the facts of Host(n) and ReadyLoaner, retrying
// what the server calls temporary. Agents enrolled once can be driven by
// several DriveLoad runs.
func EnrollAgents(ctx context.Context, cfg LoadConfig, log *slog.Logger) ([]*Agent, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	hc, err := loadHTTPClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	agents, err := enrollMany(ctx, cfg, hc, log)
	if err != nil {
		return nil, err
	}
	log.Info("agents enrolled", "agents", len(agents))
	return agents, nil
}

// DriveLoad is RunLoad's second half: it drives the check-ins of agents
// for cfg.Duration (cfg.Agents and EnrollToken are not used; the first
// OfflineFraction of agents stay silent).
func DriveLoad(ctx context.Context, cfg LoadConfig, agents []*Agent, log *slog.Logger) *Result {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	offline := int(cfg.OfflineFraction * float64(len(agents)))
	l := &loadRun{cfg: cfg, log: log, errs: make(map[string]int64)}
	return l.run(ctx, agents[offline:])
}

// loadHTTPClient returns the client all agents share: the caller's, or one
// pinning the CA the token names. Its transport keeps enough idle
// connections for every request in flight, so that connections are reused
// rather than handshaken again.
func loadHTTPClient(ctx context.Context, cfg LoadConfig) (*http.Client, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		c, err := client.New(cfg.ServerURL, nil, "parc-sim")
		if err != nil {
			return nil, err
		}
		hc = &http.Client{Timeout: requestTimeout}
		if c.HTTPS() {
			tok, err := agentapi.ParseEnrollToken(cfg.EnrollToken)
			if err != nil {
				return nil, fmt.Errorf("enroll token: %w", err)
			}
			if tok.CAHash == "" {
				return nil, errors.New("enroll token: it names no CA hash; give the CA (--ca-file) to trust the server")
			}
			_, ca, err := c.FetchCA(ctx, tok.CAHash)
			if err != nil {
				return nil, err
			}
			hc = client.PinnedHTTPClient([]*x509.Certificate{ca}, requestTimeout)
		}
	}
	t, ok := hc.Transport.(*http.Transport)
	if hc.Transport == nil {
		t, ok = http.DefaultTransport.(*http.Transport), true
	}
	if !ok {
		return hc, nil
	}
	t = t.Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = cfg.Concurrency + 16
	// Many connections, as many agents make, rather than all requests
	// multiplexed on one HTTP/2 connection, which no real fleet does.
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if t.TLSClientConfig != nil {
		t.TLSClientConfig = t.TLSClientConfig.Clone()
		t.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	shared := *hc
	shared.Transport = t
	return &shared, nil
}

// enrollMany enrols cfg.Agents agents concurrently, retrying the failures
// the server calls temporary (busy, unreachable).
func enrollMany(ctx context.Context, cfg LoadConfig, hc *http.Client, log *slog.Logger) ([]*Agent, error) {
	agents := make([]*Agent, cfg.Agents)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	start := time.Now()
	stopProgress := progressLoop(cfg.Progress, func() Progress {
		return Progress{Phase: "enrol", Enrolled: int(done.Load()), Elapsed: time.Since(start)}
	})
	defer stopProgress()
	var wg sync.WaitGroup
	// The server commits enrolments redeeming one token together, so
	// many in flight make fewer, larger transactions.
	for range min(cfg.Concurrency, cfg.Agents) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.Agents || ctx.Err() != nil {
					return
				}
				host := Host(i + 1)
				for attempt := 0; ; attempt++ {
					a, err := Enroll(ctx, cfg.ServerURL, hc, cfg.EnrollToken, host)
					if err == nil {
						ReadyLoaner(&a.Report, time.Now())
						agents[i] = a
						done.Add(1)
						break
					}
					if ctx.Err() != nil {
						return
					}
					if !temporary(err) || attempt >= 20 {
						cancel(fmt.Errorf("enrolling agent %d of %d: %w", i+1, cfg.Agents, err))
						return
					}
					log.Debug("enrolment failed, retrying", "host", host.Hostname, "err", err)
					sleepCtx(ctx, backoff(attempt))
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return agents, nil
}

// temporary reports whether a failed request is worth retrying: the
// server was busy or unreachable, not refusing.
func temporary(err error) bool {
	var se *client.StatusError
	if errors.As(err, &se) {
		return se.Status == http.StatusServiceUnavailable || se.Status == http.StatusTooManyRequests || se.Status >= 500
	}
	return true
}

func backoff(attempt int) time.Duration {
	d := 50 * time.Millisecond << min(attempt, 5)
	return d/2 + rand.N(d)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// progressLoop calls fn's progress every second until the returned stop.
func progressLoop(report func(Progress), fn func() Progress) (stop func()) {
	if report == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report(fn())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// loadRun is one load phase in progress.
type loadRun struct {
	cfg LoadConfig
	log *slog.Logger

	checkIns, fullReports, heartbeats, failures atomic.Int64

	mu    sync.Mutex
	errs  map[string]int64
	acked []Ack
	hist  histogram
}

// simAgent is an agent's state in a load run.
type simAgent struct {
	*Agent
	// pending is a report sent but not acknowledged: the next check-in
	// sends it again, as the agent's spool does.
	pending *agentapi.Report
	// changed says the content changed since the acknowledged report.
	changed bool
	boots   int
}

func (l *loadRun) run(ctx context.Context, agents []*Agent) *Result {
	start := time.Now()
	stopProgress := progressLoop(l.cfg.Progress, func() Progress {
		return Progress{Phase: "load", Enrolled: len(agents), Elapsed: time.Since(start),
			CheckIns: l.checkIns.Load(), FullReports: l.fullReports.Load(), Heartbeats: l.heartbeats.Load(), Errors: l.failures.Load()}
	})
	sched := newSchedule()
	for _, a := range agents {
		first := start
		if l.cfg.Interval > 0 {
			first = start.Add(rand.N(l.cfg.Interval))
		}
		sched.push(&simAgent{Agent: a, changed: a.Acked == ""}, first)
	}
	work := make(chan *simAgent)
	stop := start.Add(l.cfg.Duration)
	go sched.dispatch(ctx, stop, work)

	var wg sync.WaitGroup
	for range min(l.cfg.Concurrency, max(len(agents), 1)) {
		wg.Go(func() {
			var h histogram
			for a := range work {
				if t0, err := l.checkin(ctx, a); err == nil {
					h.add(time.Since(t0))
				}
				sched.push(a, l.nextDue(a))
			}
			l.mu.Lock()
			l.hist.merge(&h)
			l.mu.Unlock()
		})
	}
	wg.Wait()
	stopProgress()
	res := &Result{CheckIns: l.checkIns.Load(), FullReports: l.fullReports.Load(), Heartbeats: l.heartbeats.Load(),
		Elapsed: time.Since(start), Errors: l.errs, Acked: l.acked,
		P50: l.hist.quantile(0.50), P99: l.hist.quantile(0.99), Max: l.hist.max}
	return res
}

// nextDue is when agent a checks in next: one interval (with jitter) from
// now, or at once in a closed loop; a failed agent waits a little.
func (l *loadRun) nextDue(a *simAgent) time.Time {
	now := time.Now()
	if l.cfg.Interval > 0 {
		return now.Add(time.Duration(float64(l.cfg.Interval) * (0.9 + 0.2*rand.Float64())))
	}
	if a.pending != nil {
		return now.Add(100 * time.Millisecond)
	}
	return now
}

// checkin does one check-in of a as the real agent's cycle does and
// counts it. It returns when the last request started and its error.
func (l *loadRun) checkin(ctx context.Context, a *simAgent) (time.Time, error) {
	if a.pending == nil && !a.changed && rand.Float64() < l.cfg.ChangeFraction {
		// A reboot: a fingerprinted fact changes, the report with it.
		a.boots++
		a.Report.Host.BootTime = a.Report.Host.BootTime.Add(time.Minute)
		a.Report.Host.UptimeSeconds = 60
		a.changed = true
	}
	if a.pending == nil && !a.changed {
		t0 := time.Now()
		resp, err := a.Heartbeat(ctx)
		if err != nil {
			l.fail(err)
			return t0, err
		}
		l.heartbeats.Add(1)
		l.checkIns.Add(1)
		if !resp.NeedFullReport {
			return t0, nil
		}
		a.changed = true
	}
	if a.pending == nil {
		a.Seq++
		r := a.Report
		r.Seq = a.Seq
		r.CollectedAt = time.Now().UTC()
		r.Fingerprint = r.ComputeFingerprint()
		a.pending = &r
		a.changed = false
	}
	t0 := time.Now()
	resp, err := a.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindReport, Report: a.pending})
	if err == nil && (!resp.Accepted || resp.Seq < a.pending.Seq) {
		err = fmt.Errorf("report %d %w (the server holds %d)", a.pending.Seq, errNotAcked, resp.Seq)
	}
	if err != nil {
		l.fail(err)
		return t0, err
	}
	a.Acked = a.pending.Fingerprint
	l.fullReports.Add(1)
	l.checkIns.Add(1)
	l.mu.Lock()
	l.acked = append(l.acked, Ack{AgentID: a.ID, Seq: a.pending.Seq, Fingerprint: a.pending.Fingerprint})
	l.mu.Unlock()
	a.pending = nil
	return t0, nil
}

var errNotAcked = errors.New("not acknowledged")

func (l *loadRun) fail(err error) {
	l.failures.Add(1)
	kind := ErrorKind(err)
	l.mu.Lock()
	l.errs[kind]++
	l.mu.Unlock()
	l.log.Debug("check-in failed", "kind", kind, "err", err)
}

// ErrorKind names the kind of a failed request for counting: "timeout",
// "http 503", "connection refused", "connection reset", "eof",
// "not acknowledged", "canceled" or "other".
func ErrorKind(err error) string {
	var se *client.StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("http %d", se.Status)
	case errors.Is(err, errNotAcked):
		return "not acknowledged"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}

// schedule hands agents to the workers when they are due, earliest first.
type schedule struct {
	mu   sync.Mutex
	h    dueHeap
	wake chan struct{}
}

func newSchedule() *schedule { return &schedule{wake: make(chan struct{}, 1)} }

func (s *schedule) push(a *simAgent, due time.Time) {
	s.mu.Lock()
	heap.Push(&s.h, dueAgent{a: a, due: due})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatch sends each agent on work when it is due, until stop or ctx
// ends; then it closes work.
func (s *schedule) dispatch(ctx context.Context, stop time.Time, work chan<- *simAgent) {
	defer close(work)
	end := time.NewTimer(time.Until(stop))
	defer end.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var next dueAgent
		wait := time.Duration(-1)
		if len(s.h) > 0 {
			next = s.h[0]
			if w := time.Until(next.due); w > 0 {
				wait = w
			} else {
				heap.Pop(&s.h)
			}
		} else {
			wait = time.Hour
		}
		s.mu.Unlock()
		if wait < 0 {
			select {
			case work <- next.a:
				continue
			case <-end.C:
				return
			case <-ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
		case <-end.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

type dueAgent struct {
	a   *simAgent
	due time.Time
}

type dueHeap []dueAgent

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueAgent)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
