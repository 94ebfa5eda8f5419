package spool

import (
	"slices"
	"testing"
	"time"
)

func constRand(f float64) func() float64 { return func() float64 { return f } }

func TestBackoffSchedule(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"lowest draw is half the ceiling", Backoff{Initial: 1 * s, Max: 8 * s, Rand: constRand(0)},
			[]time.Duration{s / 2, 1 * s, 2 * s, 4 * s, 4 * s, 4 * s}},
		{"middle draw", Backoff{Initial: 1 * s, Max: 8 * s, Rand: constRand(0.5)},
			[]time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * s, 6 * s, 6 * s}},
		{"ceiling not a power of two of initial", Backoff{Initial: 3 * s, Max: 10 * s, Rand: constRand(0)},
			[]time.Duration{1500 * time.Millisecond, 3 * s, 5 * s, 5 * s}},
		{"initial above max is capped", Backoff{Initial: time.Hour, Max: 4 * s, Rand: constRand(0)},
			[]time.Duration{2 * s, 2 * s}},
		{"broken random source cannot exceed the cap", Backoff{Initial: 1 * s, Max: 2 * s, Rand: constRand(7)},
			[]time.Duration{s / 2, 1 * s, 1 * s}},
		{"broken random source cannot go negative", Backoff{Initial: 1 * s, Max: 2 * s, Rand: constRand(-3)},
			[]time.Duration{s / 2, 1 * s}},
		{"zero value uses the defaults", Backoff{Rand: constRand(0)},
			[]time.Duration{DefaultBackoffInitial / 2, DefaultBackoffInitial, 2 * DefaultBackoffInitial}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			for range tt.want {
				got = append(got, tt.b.Next())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("delays %v, want %v", got, tt.want)
			}
			if tt.b.Attempt() != len(tt.want) {
				t.Errorf("attempt %d, want %d", tt.b.Attempt(), len(tt.want))
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: time.Minute}
	for i := range 10000 {
		d := b.Next()
		// The ceiling reached Max after 6 doublings; from then on every
		// delay lies in [Max/2, Max).
		if i >= 6 && (d < 30*time.Second || d >= time.Minute) {
			t.Fatalf("attempt %d: delay %v outside [30s, 1m)", i+1, d)
		}
		if d <= 0 || d > time.Minute {
			t.Fatalf("attempt %d: delay %v", i+1, d)
		}
	}
}

func TestBackoffJitterSpreads(t *testing.T) {
	// A fleet that lost the server together must not retry together.
	seen := map[time.Duration]bool{}
	for range 100 {
		b := Backoff{Initial: time.Second, Max: time.Minute}
		for range 5 {
			b.Next()
		}
		seen[b.Next()] = true
	}
	if len(seen) < 90 {
		t.Fatalf("100 agents drew only %d distinct delays", len(seen))
	}
}

func TestBackoffReset(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: time.Minute, Rand: constRand(0)}
	for range 5 {
		b.Next()
	}
	b.Reset()
	if b.Attempt() != 0 {
		t.Fatalf("attempt %d after Reset", b.Attempt())
	}
	if d := b.Next(); d != time.Second/2 {
		t.Fatalf("first delay after Reset %v, want 500ms", d)
	}
}
