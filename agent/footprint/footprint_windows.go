package footprint

import "golang.org/x/sys/windows"

// trimCode empties the agent's working set, as idle Windows services do:
// the pages stay in the standby list and come back cheaply when needed.
func trimCode() error {
	h := windows.CurrentProcess()
	// (SIZE_T)-1 for both sizes means "remove as many pages as possible".
	return windows.SetProcessWorkingSetSizeEx(h, ^uintptr(0), ^uintptr(0), 0)
}
