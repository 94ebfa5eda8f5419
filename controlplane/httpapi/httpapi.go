// Package httpapi is the HTTP plumbing every parc-server API shares: routes
// that declare who may call them, JSON bodies decoded with limits, and
// errors answered as {"error": ..., "detail": ...}.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/controlplane/store"
)

// Error is an answer to a bad request: the status and what to tell the
// caller. Handlers return it; anything else becomes a 500.
type Error struct {
	Status int
	Msg    string
	Detail string
	// RetryAfter, for a 429 or 503, says when to come back; 0 means the
	// default of a few seconds.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Msg
	}
	return e.Msg + ": " + e.Detail
}

// Errorf returns an *Error with a formatted detail.
func Errorf(status int, msg, format string, args ...any) *Error {
	return &Error{Status: status, Msg: msg, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 naming what was wrong.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "bad request", format, args...)
}

// NotFound is a 404 naming what was not found.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "not found", format, args...)
}

// Conflict is a 409: the request clashes with the current state.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "conflict", format, args...)
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// WriteError answers with err: its own status if it is an *Error, 404 for
// store.ErrNotFound, 409 for store.ErrConflict, else 500 (logged, and the
// caller told only that it failed).
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var he *Error
	switch {
	case errors.As(err, &he):
	case errors.Is(err, store.ErrNotFound):
		he = &Error{Status: http.StatusNotFound, Msg: "not found", Detail: err.Error()}
	case errors.Is(err, store.ErrConflict):
		he = &Error{Status: http.StatusConflict, Msg: "conflict", Detail: err.Error()}
	case r.Context().Err() != nil:
		// The caller left; a status nobody reads.
		he = &Error{Status: 499, Msg: "client closed request"}
	default:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		he = &Error{Status: http.StatusInternalServerError, Msg: "internal error", Detail: "the server could not complete the request; see its log"}
	}
	switch he.Status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		retry := defaultRetryAfter
		if he.RetryAfter > 0 {
			retry = he.RetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(retry)))
	case http.StatusUnauthorized:
		// RFC 6750: say how to authenticate, and whether the credential
		// given (if any) was the problem.
		challenge := `Bearer realm="parc"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	WriteJSON(w, he.Status, agentapi.ErrorResponse{Error: he.Msg, Detail: he.Detail})
}

// defaultRetryAfter is the Retry-After of a 503 or 429 that names none.
const defaultRetryAfter = 5 * time.Second

// DecodeOptions bound and shape JSON decoding.
type DecodeOptions struct {
	// MaxBytes bounds the body; over it the answer is 413.
	MaxBytes int64
	// Strict rejects unknown fields (admin API). The agent API tolerates
	// them, so a newer agent can talk to an older server.
	Strict bool
}

// DecodeJSON reads r's body into v. Errors are *Error: 413 for a body over
// the limit, 415 for a body that is not JSON, 400 for malformed JSON (or
// not UTF-8) naming where it went wrong.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, opt DecodeOptions) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported media type", "want application/json, got %.64q", ct)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opt.MaxBytes))
	if err != nil {
		return decodeError(err, opt.MaxBytes)
	}
	// JSON is UTF-8 (RFC 8259). Go's decoder would quietly turn invalid
	// bytes into U+FFFD and store a string the agent never sent.
	if !utf8.Valid(data) {
		return BadRequest("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if opt.Strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeError(err, opt.MaxBytes)
	}
	// One JSON value per body: trailing data is a client bug worth naming.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("unexpected data after the JSON body")
	}
	return nil
}

func decodeError(err error, limit int64) error {
	var (
		mbe    *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return Errorf(http.StatusRequestEntityTooLarge, "request body too large", "the limit is %d bytes", limit)
	case errors.As(err, &syntax):
		return BadRequest("malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		return BadRequest("field %.128q: want %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return BadRequest("empty body, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed JSON: body ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return BadRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return BadRequest("malformed JSON: %v", err)
	}
}
