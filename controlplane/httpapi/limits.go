package httpapi

import (
	"net/http"
	"unicode"
	"unicode/utf8"
)

// Bounds of what the admin API accepts. The agent API has its own, in
// agentapi (MaxBodyBytes, MaxStringLen, MaxListLen).
const (
	// MaxAdminBodyBytes bounds an admin API JSON body: the largest is a
	// token or a loan, well under a kilobyte.
	MaxAdminBodyBytes = 64 << 10
	// MaxQueryValueLen bounds one query parameter (filters, cursors).
	MaxQueryValueLen = 256
	// MaxNameLen bounds names people give (token names, labels).
	MaxNameLen = 128
	// MaxTextLen bounds free text (a revocation reason, a note).
	MaxTextLen = 1024
)

// AdminJSON decodes an admin API body: bounded, and strict (a misspelt
// field is an error, not silently ignored).
var AdminJSON = DecodeOptions{MaxBytes: MaxAdminBodyBytes, Strict: true}

// CheckString is a 400 naming field when v is longer than max bytes, not
// UTF-8, or holds control characters (which would garble logs and
// terminals).
func CheckString(field, v string, max int) error {
	if len(v) > max {
		return Errorf(http.StatusBadRequest, "bad request", "%s: %d bytes, at most %d", field, len(v), max)
	}
	if !utf8.ValidString(v) {
		return BadRequest("%s: not valid UTF-8", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return BadRequest("%s: control character %U not allowed", field, r)
		}
	}
	return nil
}
