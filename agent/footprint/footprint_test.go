package footprint

import (
	"os"
	"runtime"
	"testing"
)

func TestTrimKeepsTheProcessWorking(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self")
	}
	if err := Trim(); err != nil {
		t.Fatal(err)
	}
	// Code given back is faulted in again: the process goes on.
	if _, err := os.Executable(); err != nil {
		t.Fatal(err)
	}
}
