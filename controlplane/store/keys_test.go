package store

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"LP-0042", true},
		{"ECOLE.JAURES:12", true},
		{"a_b@c", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../etc", false},
		{"a b", false},
		{"é", false},
		{"a\x00b", false},
		{strings.Repeat("x", MaxIDLen), true},
		{strings.Repeat("x", MaxIDLen+1), false},
	}
	for _, tt := range tests {
		if err := ValidID(tt.id); (err == nil) != tt.ok {
			t.Errorf("ValidID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}

func TestKeys(t *testing.T) {
	s := New(nil, "/school")
	if got, want := s.Key(KindReportLog, "abc", SeqKey(12)), "/school/v1/reportlog/abc/00000000000000000012"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got := s.IDFromKey(KindReportLog, s.Key(KindReportLog, "abc", "x")); got != "abc" {
		t.Errorf("IDFromKey = %q", got)
	}
	if SeqKey(9) >= SeqKey(10) {
		t.Error("sequence keys do not sort numerically")
	}
}
