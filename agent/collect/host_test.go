package collect

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// TestHostOnThisMachine collects real facts: they must be this machine's.
func TestHostOnThisMachine(t *testing.T) {
	var r agentapi.Report
	if err := (Host{}).Collect(context.Background(), &r); err != nil {
		t.Logf("partial: %v", err) // a container may hide some facts; the rest must be there
	}
	h := r.Host
	if h.Hostname == "" || h.OS != runtime.GOOS || h.CPUCores < 1 || h.MemoryBytes == 0 || h.BootTime.IsZero() {
		t.Errorf("host facts %+v, want this machine's", h)
	}
}

type fakeCollector struct {
	name string
	err  error
	pan  bool
}

func (f fakeCollector) Name() string { return f.name }
func (f fakeCollector) Collect(_ context.Context, r *agentapi.Report) error {
	if f.pan {
		panic("boom")
	}
	r.Host.Hostname += f.name
	return f.err
}

func TestRunIsolatesFailures(t *testing.T) {
	var r agentapi.Report
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	timings := Run(context.Background(), []Collector{
		fakeCollector{name: "a"},
		fakeCollector{name: "battery", err: ErrNoData},
		fakeCollector{name: "broken", err: errors.New("cannot read")},
		fakeCollector{name: "panicky", pan: true},
		fakeCollector{name: "z"},
	}, &r, time.Second, log)
	if len(timings) != 5 || r.Host.Hostname != "abatterybrokenz" {
		t.Errorf("not every collector ran: %d timings, %q", len(timings), r.Host.Hostname)
	}
	if len(r.Errors) != 2 || r.Errors[0].Source != "collector broken" || r.Errors[1].Source != "collector panicky" {
		t.Errorf("errors %+v, want one for broken and one for panicky (none for no data)", r.Errors)
	}
}
