package ctl

import (
	"bytes"
	"strings"
	"testing"
)

func TestTableEscapesControlCharacters(t *testing.T) {
	var out bytes.Buffer
	a := &app{out: &out}
	a.table([]string{"HOSTNAME"}, [][]string{{"lp-01\x1b]0;pwned\x07\x1b[2J"}, {"école-été"}, {"bad\xffutf8"}})
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07") || strings.Contains(got, "\xff") {
		t.Errorf("control characters reached the terminal: %q", got)
	}
	for _, want := range []string{`lp-01\x1b]0;pwned\a\x1b[2J`, "école-été", `bad\xffutf8`} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
}
