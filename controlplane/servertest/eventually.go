package servertest

import (
	"testing"
	"time"
)

// Eventually calls cond every 100 ms until it holds, and fails the test
// with cond's last state when it has not held within the given time. what
// names the expectation in the log and in the failure.
func Eventually(t testing.TB, within time.Duration, what string, cond func() (ok bool, state string)) {
	t.Helper()
	start := time.Now()
	for {
		ok, state := cond()
		if ok {
			t.Logf("%s: after %s", what, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s; last state: %s", what, within, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
