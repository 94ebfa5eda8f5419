package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	type payload struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name        string
		body        string
		contentType string
		strict      bool
		wantStatus  int // 0: no error
		wantDetail  string
	}{
		{"ok", `{"name":"a","count":2}`, "application/json", true, 0, ""},
		{"no content type", `{"name":"a"}`, "", true, 0, ""},
		{"unknown field tolerated", `{"name":"a","new":1}`, "application/json", false, 0, ""},
		{"unknown field strict", `{"name":"a","new":1}`, "application/json", true, 400, `unknown field "new"`},
		{"syntax", `{"name":}`, "application/json", false, 400, "malformed JSON at byte"},
		{"truncated", `{"name":"a"`, "application/json", false, 400, "ends too early"},
		{"type", `{"count":"many"}`, "application/json", false, 400, `field "count"`},
		{"huge number", `{"count":1e400}`, "application/json", false, 400, `field "count"`},
		{"empty", ``, "application/json", false, 400, "empty body"},
		{"two values", `{} {}`, "application/json", false, 400, "after the JSON body"},
		{"too large", `{"name":"` + strings.Repeat("x", 200) + `"}`, "application/json", false, 413, "limit is 100 bytes"},
		{"form", `name=a`, "application/x-www-form-urlencoded", false, 415, "application/json"},
		{"invalid UTF-8", "{\"name\":\"a\xff\"}", "application/json", false, 400, "UTF-8"},
		{"deep nesting", strings.Repeat("[", 50) + strings.Repeat("]", 50), "application/json", false, 400, "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var p payload
			err := DecodeJSON(httptest.NewRecorder(), r, &p, DecodeOptions{MaxBytes: 100, Strict: tt.strict})
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) || he.Status != tt.wantStatus || !strings.Contains(he.Detail, tt.wantDetail) {
				t.Errorf("error %#v, want status %d naming %q", err, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}

func TestCheckString(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" for accepted
	}{
		{"école Jau", ""},
		{strings.Repeat("x", 10), ""},
		{strings.Repeat("x", 11), "at most 10"},
		{"a\x1b[2J", "control character"},
		{"a\nb", "control character"},
		{"a\xffb", "UTF-8"},
	} {
		err := CheckString("name", tt.in, 10)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckString(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}
