package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parc-project/parc/controlplane/reconcile"
)

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		sorted []float64
		q      float64
		want   float64
	}{
		{[]float64{7}, 0, 7},
		{[]float64{7}, 0.5, 7},
		{[]float64{10, 30, 50}, 0, 10},
		{[]float64{10, 30, 50}, 0.1, 10},
		{[]float64{10, 30, 50}, 0.5, 30},
		{[]float64{10, 30, 50, 70}, 0.5, 30},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.1, 1},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.1, 2},
		{[]float64{1, 2, 3}, 1, 3},
	} {
		if got := quantile(tc.sorted, tc.q); got != tc.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.sorted, tc.q, got, tc.want)
		}
	}
}

func TestSiteOf(t *testing.T) {
	for _, tc := range []struct {
		s    reconcile.Status
		want string
	}{
		{reconcile.Status{Site: "a"}, "a"},
		{reconcile.Status{Site: "a", Placed: "b"}, "b"},
		{reconcile.Status{Site: "a", Placed: "b", SeenSite: "c"}, "c"},
		{reconcile.Status{}, reconcile.NoSite},
	} {
		if got := siteOf(tc.s); got != tc.want {
			t.Errorf("siteOf(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestCheckinsCountByKindAndResult(t *testing.T) {
	c := newCheckins()
	c.Checkin("report", "accepted", time.Millisecond)
	c.Checkin("report", "duplicate", time.Millisecond)
	c.Checkin("heartbeat", "resend", time.Millisecond)
	c.Checkin("heartbeat", "resend", time.Millisecond)
	c.Checkin("bogus", "accepted", time.Millisecond) // an unknown kind is timed, not counted
	for _, tc := range []struct {
		kind, result string
		want         float64
	}{
		{"report", "accepted", 1}, {"report", "duplicate", 1}, {"heartbeat", "resend", 2}, {"heartbeat", "accepted", 0}, {"invalid", "rejected", 0},
	} {
		if got := testutil.ToFloat64(c.total.WithLabelValues(tc.kind, tc.result)); got != tc.want {
			t.Errorf("checkins{%s,%s} = %v, want %v", tc.kind, tc.result, got, tc.want)
		}
	}
	if got := testutil.ToFloat64(c.reports); got != 1 {
		t.Errorf("reports received %v, want 1 (a duplicate is not a new report)", got)
	}
	// Every combination exists from the start: 3 kinds × 5 results.
	if n := testutil.CollectAndCount(c.total); n != len(checkinKinds)*len(checkinResults) {
		t.Errorf("%d check-in series, want %d", n, len(checkinKinds)*len(checkinResults))
	}
}

// BenchmarkCheckin measures what metrics add to a check-in (the hot path).
func BenchmarkCheckin(b *testing.B) {
	c := newCheckins()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Checkin("heartbeat", "accepted", 3*time.Millisecond)
		}
	})
}
