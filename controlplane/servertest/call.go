package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Admin calls the server's admin API with its admin token: in, when not
// nil, is sent as JSON, and a 2xx answer is decoded into out when not nil.
// It returns the status; a request that gets no answer fails the test.
func (s *Server) Admin(t testing.TB, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("%s %s: encoding the request: %v", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decoding the answer: %v", method, path, err)
		}
	}
	return resp.StatusCode
}
