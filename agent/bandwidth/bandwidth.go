// Package bandwidth measures the agent's download bandwidth against
// parc-server's speed test (or a configured URL): long enough to mean
// something, short enough to be polite (until 2 s or 25 MB), every few
// hours and whenever the unit joins another network. 10 Mbps is the line a
// student needs at home; the server judges, the agent only measures.
package bandwidth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/client"
)

// Config shapes the measurements.
type Config struct {
	// Interval between measurements on the same network.
	Interval time.Duration
	// MaxBytes and MaxDuration end a measurement, whichever comes first.
	MaxBytes    int64
	MaxDuration time.Duration
	// URL, if set, is measured instead of the server's speed test.
	URL string
}

// Defaults: a measurement every four hours, of at most 25 MB or 2 s.
var Defaults = Config{Interval: 4 * time.Hour, MaxBytes: agentapi.SpeedtestMaxBytes, MaxDuration: 2 * time.Second}

// Due reports whether to measure now: never measured, the last measurement
// failed or is older than the interval, or the unit is on another network.
func Due(last *agentapi.BandwidthFacts, net agentapi.Network, interval time.Duration, now time.Time) bool {
	switch {
	case last == nil || last.MeasuredAt.IsZero():
		return true
	case last.Error != "" && now.Sub(last.MeasuredAt) > interval/8:
		return true // a failure is retried sooner, but not at every check-in
	case now.Sub(last.MeasuredAt) >= interval:
		return true
	}
	return last.Network != net
}

// Measure downloads from the speed test and returns what it measured on
// network net. A failed attempt returns the error in the facts, keeping
// prev's figures (the last good measurement) if any.
func Measure(ctx context.Context, c *client.Client, cfg Config, net agentapi.Network, prev *agentapi.BandwidthFacts, now func() time.Time) agentapi.BandwidthFacts {
	fail := func(err error) agentapi.BandwidthFacts {
		f := agentapi.BandwidthFacts{Network: net, MeasuredAt: now().UTC(), Error: err.Error(), Target: cfg.URL}
		if prev != nil && prev.Error == "" {
			f.DownloadMbps, f.LatencyMs, f.Bytes, f.DurationMs = prev.DownloadMbps, prev.LatencyMs, prev.Bytes, prev.DurationMs
		}
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration+30*time.Second)
	defer cancel()
	start := now()
	resp, err := c.Speedtest(ctx, cfg.MaxBytes, cfg.URL)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	firstByte := now()
	n, elapsed, err := readFor(resp.Body, cfg.MaxBytes, cfg.MaxDuration, now)
	if err != nil && n == 0 {
		return fail(err)
	}
	if elapsed <= 0 {
		elapsed = time.Millisecond
	}
	return agentapi.BandwidthFacts{
		DownloadMbps: float64(n) * 8 / elapsed.Seconds() / 1e6,
		LatencyMs:    float64(firstByte.Sub(start).Microseconds()) / 1000,
		MeasuredAt:   firstByte.UTC(),
		Bytes:        n,
		DurationMs:   elapsed.Milliseconds(),
		Target:       cfg.URL,
		Network:      net,
	}
}

// readFor reads r until max bytes or d have gone by, and says how much it
// read in how long.
func readFor(r io.Reader, max int64, d time.Duration, now func() time.Time) (int64, time.Duration, error) {
	buf := make([]byte, 64<<10)
	start := now()
	var n int64
	for n < max {
		k, err := r.Read(buf[:min(int64(len(buf)), max-n)])
		n += int64(k)
		if now().Sub(start) >= d {
			break
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, now().Sub(start), err
		}
	}
	return n, now().Sub(start), nil
}

// hashSSID hides a Wi-Fi network's name: parc tells networks apart without
// keeping where a student lives.
func hashSSID(ssid string) string {
	if ssid == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("parc-ssid:" + ssid))
	return hex.EncodeToString(sum[:8])
}
