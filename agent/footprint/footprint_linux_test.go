package footprint

import "testing"

func TestExeMapping(t *testing.T) {
	exe := "/usr/bin/parc-agent"
	tests := []struct {
		line string
		ok   bool
	}{
		{"00400000-00b26000 r-xp 00000000 fe:00 123 /usr/bin/parc-agent", true},
		{"00b26000-0133b000 r--p 00726000 fe:00 123 /usr/bin/parc-agent", true},
		{"0133b000-013af000 rw-p 00f3b000 fe:00 123 /usr/bin/parc-agent", false}, // live data
		{"7fb9d2060000-7fb9d2200000 rw-p 00000000 00:00 0", false},
		{"7fba18cbb000-7fba18e11000 r-xp 00026000 fe:00 9 /usr/lib/x86_64-linux-gnu/libc.so.6", false},
		{"garbage", false},
		{"00b26000-00400000 r--p 00726000 fe:00 123 /usr/bin/parc-agent", false},
	}
	for _, tt := range tests {
		if _, _, ok := exeMapping(tt.line, exe); ok != tt.ok {
			t.Errorf("exeMapping(%q) = %v, want %v", tt.line, ok, tt.ok)
		}
	}
}
