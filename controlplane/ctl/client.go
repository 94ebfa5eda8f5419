package ctl

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/parc-project/parc/agent/agentapi"
)

// Client calls the admin API with a user token.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for server with token.
func NewClient(server, token string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("server %q: want a URL such as https://parc.example.org:8443 (--server or PARC_SERVER)", server)
	}
	if token == "" {
		return nil, fmt.Errorf("no token: pass --token, --token-file or set PARC_TOKEN (the first admin token is in the server's data dir, admin.token)")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: httpTimeout}
	}
	return &Client{base: u.String(), token: token, http: httpClient}, nil
}

// APIError is an answer other than 2xx, with the server's explanation.
type APIError struct {
	Status int
	agentapi.ErrorResponse
	// Body is the answer as sent: some refusals carry a result to show
	// (the bad lines of a file).
	Body []byte
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.ErrorResponse.Error)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Do sends in (if not nil) as JSON and decodes the answer into out (if not
// nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, contentType = bytes.NewReader(data), "application/json"
	}
	resp, err := c.Raw(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// Raw sends a request with a raw body and returns the response when it is
// 2xx; anything else becomes an *APIError.
func (c *Client) Raw(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, withTLSHint(err))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		e := &APIError{Status: resp.StatusCode, Body: data}
		if json.Unmarshal(data, &e.ErrorResponse) != nil || e.ErrorResponse.Error == "" {
			e.ErrorResponse.Error = http.StatusText(resp.StatusCode)
		}
		return nil, e
	}
	return resp, nil
}

// withTLSHint adds what to do to an error about a certificate nobody
// vouched for: most often a server with its own CA and no --ca-file.
func withTLSHint(err error) error {
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return fmt.Errorf("%w (a parc-server with its own CA: pass --ca-file or set PARC_CA_FILE to its ca.crt, in its data dir)", err)
	}
	return err
}
