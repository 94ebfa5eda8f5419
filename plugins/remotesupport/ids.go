package main

import (
	"bufio"
	"bytes"
	"strings"
)

// parseTeamViewerConf reads TeamViewer's global.conf (Linux):
//
//	[int32] ClientID = 1234567890
func parseTeamViewerConf(data []byte) string {
	return scanKey(data, func(line string) (string, bool) {
		rest, ok := strings.CutPrefix(line, "[int32] ClientID = ")
		return rest, ok
	})
}

// parseRustDeskToml reads RustDesk.toml: the top-level key
//
//	id = '123456789'
//
// (a table header ends the top level).
func parseRustDeskToml(data []byte) string {
	inTable := false
	return scanKey(data, func(line string) (string, bool) {
		if strings.HasPrefix(line, "[") {
			inTable = true
		}
		key, val, ok := strings.Cut(line, "=")
		if inTable || !ok || strings.TrimSpace(key) != "id" {
			return "", false
		}
		return strings.Trim(strings.TrimSpace(val), `'"`), true
	})
}

// parseAnyDeskConf reads AnyDesk's system.conf:
//
//	ad.anynet.id=123456789
func parseAnyDeskConf(data []byte) string {
	return scanKey(data, func(line string) (string, bool) {
		rest, ok := strings.CutPrefix(line, "ad.anynet.id=")
		return rest, ok
	})
}

// scanKey returns the first value match finds on a trimmed line, if it is a
// plausible device ID: digits, letters and dashes, at most 64 characters.
func scanKey(data []byte, match func(line string) (string, bool)) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		v, ok := match(strings.TrimSpace(sc.Text()))
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if plausibleID(v) {
			return v
		}
	}
	return ""
}

func plausibleID(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}
