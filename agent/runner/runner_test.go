package runner

import (
	"testing"
	"time"
)

func TestNextDelay(t *testing.T) {
	tests := []struct {
		jitter, u float64
		want      time.Duration
	}{
		{0, 0.3, 100 * time.Second},
		{0.1, 0, 90 * time.Second},
		{0.1, 0.5, 100 * time.Second},
		{0.1, 0.999999, 110 * time.Second},
		{0.5, 0, 50 * time.Second},
	}
	for _, tt := range tests {
		got := NextDelay(100*time.Second, tt.jitter, tt.u)
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("NextDelay(100s, %v, %v) = %v, want %v", tt.jitter, tt.u, got, tt.want)
		}
	}
}
