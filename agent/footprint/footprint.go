// Package footprint keeps the agent small while it waits between cycles:
// a laptop's memory belongs to the student's applications, and the agent
// works a few hundred milliseconds every few minutes.
package footprint

import "runtime/debug"

// Trim gives back what the last cycle used: the heap it freed, and, where
// the OS allows, the pages of the agent's own code (read again from the
// page cache at the next cycle, at the cost of minor faults only).
func Trim() error {
	debug.FreeOSMemory()
	return trimCode()
}
