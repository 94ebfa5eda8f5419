package linkprobe

import (
	"context"
	"net"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// probeTCP connects to addr attempts times, one after the other, and
// times each handshake. A refused or timed-out connection is a loss: from
// inside a school, a target that does not answer is as good as a link
// that does not carry.
func probeTCP(ctx context.Context, addr string, attempts int, timeout time.Duration, now func() time.Time) agentapi.LinkTarget {
	var rtts []time.Duration
	var lastErr error
	sent := 0
	d := net.Dialer{Timeout: timeout}
	for range attempts {
		if ctx.Err() != nil {
			break
		}
		sent++
		start := now()
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			lastErr = err
			continue
		}
		rtts = append(rtts, now().Sub(start))
		conn.Close()
	}
	return summarize(addr, agentapi.ProbeTCP, sent, rtts, lastErr)
}
