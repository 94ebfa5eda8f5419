package spool

import (
	"math/rand/v2"
	"time"
)

// Defaults for Backoff.
const (
	// DefaultBackoffInitial is short enough that a blip (a Wi-Fi roam, a
	// server restart) costs seconds.
	DefaultBackoffInitial = 5 * time.Second
	// DefaultBackoffMax keeps an offline loaner trying every few minutes,
	// about as often as it would check in, so it delivers soon after it
	// comes back online, while a fleet of thousands waiting for a server
	// that is down costs it a few requests per second.
	DefaultBackoffMax = 10 * time.Minute
)

// Backoff computes exponential delays with jitter between delivery
// attempts. It is pure: it never sleeps and reads no clock, and its random
// source can be injected, so its schedule is testable. The zero value uses
// the defaults. Not safe for concurrent use.
type Backoff struct {
	Initial time.Duration // first ceiling; 0 means DefaultBackoffInitial
	Max     time.Duration // ceiling cap; 0 means DefaultBackoffMax
	// Rand returns a number in [0, 1); nil uses math/rand/v2.
	Rand func() float64

	attempt int
}

// Next returns the delay before the next attempt and counts the failure.
//
// The ceiling doubles at every failure up to Max, and the delay is drawn in
// [ceiling/2, ceiling): the lower half guarantees a server that is down
// sees each agent slow down exponentially, the random upper half spreads
// thousands of agents that lost the server at the same moment, so they do
// not come back at the same moment either.
func (b *Backoff) Next() time.Duration {
	initial, maxDelay := b.Initial, b.Max
	if initial <= 0 {
		initial = DefaultBackoffInitial
	}
	if maxDelay <= 0 {
		maxDelay = DefaultBackoffMax
	}
	initial = min(initial, maxDelay)
	ceiling := initial
	// Doubling stops at the cap, so no attempt count overflows.
	for i := 0; i < b.attempt && ceiling < maxDelay; i++ {
		ceiling = min(2*ceiling, maxDelay)
	}
	b.attempt++
	rnd := rand.Float64
	if b.Rand != nil {
		rnd = b.Rand
	}
	f := rnd()
	if f < 0 || f >= 1 {
		f = 0 // a broken source must not make delays negative or past the cap
	}
	half := ceiling / 2
	return half + time.Duration(f*float64(ceiling-half))
}

// Reset starts the schedule afresh, after a success.
func (b *Backoff) Reset() { b.attempt = 0 }

// Attempt returns the number of failures since the last Reset.
func (b *Backoff) Attempt() int { return b.attempt }
