package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/bandwidth"
	"github.com/parc-project/parc/agent/client"
	"github.com/parc-project/parc/agent/spool"
)

// checkin puts a report whose content changed into the spool, then
// delivers the spool oldest first; with nothing waiting, it sends a
// heartbeat. A laptop offline for weeks fills its spool and empties it, in
// order, when it is back.
func (r *Runner) checkin(ctx context.Context, rep *agentapi.Report) error {
	// A loss the server was not told of yet (the spool was full) rides on
	// the next full report, even when nothing else changed.
	if rep.Fingerprint != r.state.LastFingerprint || (r.Spool.Len() == 0 && r.Spool.Stats().Unreported > 0) {
		if err := r.produce(rep); err != nil {
			return err
		}
	}
	if r.Spool.Len() > 0 {
		return r.deliver(ctx)
	}
	resp, err := r.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindHeartbeat,
		Heartbeat: &agentapi.Heartbeat{Fingerprint: r.state.AckedFingerprint, SentAt: r.Now().UTC()}})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	r.applyResponse(resp)
	if !resp.NeedFullReport {
		r.Log.Debug("heartbeat acknowledged", "fingerprint", r.state.AckedFingerprint)
		return nil
	}
	r.Log.Info("server asks for a full report")
	if err := r.produce(rep); err != nil {
		return err
	}
	return r.deliver(ctx)
}

// produce gives the report the next sequence number and puts it in the
// spool, then records the number in the state. A crash between the two
// leaves the state behind the spool; Load catches up from the spool, so no
// number is skipped and none is given twice.
func (r *Runner) produce(rep *agentapi.Report) error {
	rep.Seq = r.state.LastSeq + 1
	if err := r.Spool.Put(rep); err != nil {
		return fmt.Errorf("spooling report %d: %w", rep.Seq, err)
	}
	r.state.LastSeq, r.state.LastFingerprint = rep.Seq, rep.Fingerprint
	return r.state.Save(r.StateDir)
}

// deliver sends the spooled reports oldest first; each leaves the spool
// only once the server said it is durable.
func (r *Runner) deliver(ctx context.Context) error {
	n, err := r.Spool.Drain(ctx, r.send)
	if n > 0 {
		r.Log.Info("reports delivered", "count", n, "waiting", r.Spool.Len(), "acked_seq", r.state.AckedSeq)
	}
	return err
}

// send delivers one report. A report the server refuses as malformed is
// refused for good (spool.ErrRejected): it is dropped and counted rather
// than blocking the reports behind it.
func (r *Runner) send(ctx context.Context, rep *agentapi.Report) error {
	resp, err := r.Client.Checkin(ctx, agentapi.CheckinRequest{Kind: agentapi.KindReport, Report: rep})
	var se *client.StatusError
	if errors.As(err, &se) && (se.Status == http.StatusBadRequest || se.Status == http.StatusRequestEntityTooLarge || se.Status == http.StatusUnprocessableEntity) {
		return fmt.Errorf("report %d: %w: %w", rep.Seq, spool.ErrRejected, err)
	}
	if err != nil {
		return fmt.Errorf("sending report %d: %w", rep.Seq, err)
	}
	if !resp.Accepted || resp.Seq < rep.Seq {
		return fmt.Errorf("report %d not acknowledged by the server (it holds %d)", rep.Seq, resp.Seq)
	}
	r.applyResponse(resp)
	if rep.Seq > r.state.AckedSeq {
		r.state.AckedSeq, r.state.AckedFingerprint = rep.Seq, rep.Fingerprint
		if err := r.state.Save(r.StateDir); err != nil {
			return err
		}
	}
	r.Log.Debug("report acknowledged", "seq", rep.Seq, "fingerprint", rep.Fingerprint, "errors", len(rep.Errors))
	return nil
}

// measureBandwidth measures when due (every few hours, or on a new
// network) and puts the last measurement in the report.
func (r *Runner) measureBandwidth(ctx context.Context, rep *agentapi.Report) {
	interval := r.Bandwidth.Interval
	if r.probing() && r.Probe.ThroughputInterval > 0 && (interval <= 0 || r.Probe.ThroughputInterval < interval) {
		// A probe measures its site's throughput more often than a laptop.
		interval = r.Probe.ThroughputInterval
	}
	if interval <= 0 {
		return
	}
	net := bandwidth.CurrentNetwork(ctx)
	if bandwidth.Due(r.state.Bandwidth, net, interval, r.Now()) {
		m := bandwidth.Measure(ctx, r.Client, r.Bandwidth, net, r.state.Bandwidth, r.Now)
		if m.Error != "" {
			r.Log.Warn("bandwidth measurement failed", "err", m.Error)
		} else {
			r.Log.Info("bandwidth measured", "mbps", fmt.Sprintf("%.1f", m.DownloadMbps), "network", m.Network.Kind)
		}
		r.state.Bandwidth = &m
		if err := r.state.Save(r.StateDir); err != nil {
			r.Log.Warn("keeping the bandwidth measurement", "err", err)
		}
	}
	rep.Bandwidth = r.state.Bandwidth
}
