package agents

import (
	"crypto/rand"

	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/httpapi"
)

// Bounds of the speed test: long enough to measure a home link, short
// enough to be polite to a school's uplink and the server's.
const (
	// MaxSpeedtestBytes is the most one test sends (the agent stops at 2 s).
	MaxSpeedtestBytes = agentapi.SpeedtestMaxBytes
	// speedtestBlock is the random block the test repeats: larger than any
	// compressor's window, so that nothing between agent and server can
	// shrink it and flatter the link.
	speedtestBlock = 1 << 20
	// speedtestConcurrent caps tests in flight at once on one replica.
	speedtestConcurrent = 4
	// speedtestEvery is how often one agent may run a test: agents test
	// every few hours; a tighter loop is a bug or an abuse.
	speedtestEvery = time.Minute
)

// Speedtest serves incompressible bytes to enrolled agents, one test at a
// time per agent and a few at once in all.
type Speedtest struct {
	block []byte
	slots chan struct{}
	now   func() time.Time

	mu   sync.Mutex
	last map[string]time.Time // agent id → start of its last test
}

// NewSpeedtest returns the speed test with a fresh random block.
func NewSpeedtest(now func() time.Time) *Speedtest {
	block := make([]byte, speedtestBlock)
	_, _ = rand.Read(block) // never fails
	return &Speedtest{block: block, slots: make(chan struct{}, speedtestConcurrent), now: now, last: map[string]time.Time{}}
}

// Register adds the route.
func (t *Speedtest) Register(rt *httpapi.Router) {
	rt.Agent("GET "+agentapi.PathSpeedtest, t.serve)
}

func (t *Speedtest) serve(w http.ResponseWriter, r *http.Request) error {
	p, _ := auth.PrincipalFrom(r.Context())
	size := int64(MaxSpeedtestBytes)
	if v := r.URL.Query().Get("bytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > MaxSpeedtestBytes {
			return httpapi.BadRequest("bytes: want 1 to %d, got %.20q", MaxSpeedtestBytes, v)
		}
		size = n
	}
	now := t.now()
	t.mu.Lock()
	if prev, ok := t.last[p.ID]; ok && now.Sub(prev) < speedtestEvery {
		t.mu.Unlock()
		wait := speedtestEvery - now.Sub(prev)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return httpapi.Errorf(http.StatusTooManyRequests, "too many speed tests", "one test per agent per %s", speedtestEvery)
	}
	t.last[p.ID] = now
	for id, at := range t.last {
		if now.Sub(at) > speedtestEvery {
			delete(t.last, id) // keep the map at the agents of the last minute
		}
	}
	t.mu.Unlock()

	select {
	case t.slots <- struct{}{}:
		defer func() { <-t.slots }()
	default:
		w.Header().Set("Retry-After", "30")
		return httpapi.Errorf(http.StatusServiceUnavailable, "busy", "%d speed tests running; retry later", speedtestConcurrent)
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	for sent := int64(0); sent < size; {
		chunk := t.block[:min(int64(len(t.block)), size-sent)]
		n, err := w.Write(chunk)
		sent += int64(n)
		if err != nil {
			return nil // the agent stopped reading: its measurement is done
		}
	}
	return nil
}
