package sim

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
		tol     float64 // relative
	}{
		{"exact below 16µs", []time.Duration{3 * time.Microsecond, 5 * time.Microsecond, 9 * time.Microsecond}, 0.5, 5 * time.Microsecond, 0},
		{"median of a ramp", ramp(1000, time.Millisecond), 0.5, 500 * time.Millisecond, 1.0 / 16},
		{"p99 of a ramp", ramp(1000, time.Millisecond), 0.99, 990 * time.Millisecond, 1.0 / 16},
		{"never above max", []time.Duration{1000 * time.Microsecond}, 1, 1000 * time.Microsecond, 0},
		{"outlier", append(ramp(99, time.Microsecond*100), 3*time.Second), 0.999, 3 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, d := range tt.samples {
				h.add(d)
			}
			got := h.quantile(tt.q)
			if diff := float64(got-tt.want) / float64(tt.want); diff < -tt.tol || diff > tt.tol {
				t.Errorf("quantile %.3f = %s, want %s ±%.0f%%", tt.q, got, tt.want, tt.tol*100)
			}
		})
	}
}

func TestBucketBounds(t *testing.T) {
	for us := int64(0); us < 1<<20; us += 7 {
		d := time.Duration(us) * time.Microsecond
		i := bucketOf(d)
		if d > bucketUpper(i) || (i > 0 && d <= bucketUpper(i-1)) {
			t.Fatalf("%s in bucket %d: (%s, %s]", d, i, bucketUpper(i-1), bucketUpper(i))
		}
	}
}

func ramp(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}
