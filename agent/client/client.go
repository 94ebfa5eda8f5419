// Package client speaks the agent API: enroll and check in. parc-agent and
// parc-sim both use it, so the simulator exercises the real agent's wire
// behaviour.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Client talks to one parc-server.
type Client struct {
	base       *url.URL
	http       *http.Client
	credential string
	userAgent  string
}

// New returns a client for the server at serverURL (scheme, host, port).
// httpClient carries timeouts and TLS settings; nil means a default with a
// one-minute timeout.
func New(serverURL string, httpClient *http.Client, userAgent string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(serverURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("server URL %q: want https://host:port", serverURL)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: time.Minute}
	}
	return &Client{base: u, http: httpClient, userAgent: userAgent}, nil
}

// SetCredential sets the agent credential sent with every check-in.
func (c *Client) SetCredential(cred string) { c.credential = cred }

// StatusError is an answer other than 2xx.
type StatusError struct {
	Status int
	Body   agentapi.ErrorResponse
	// RetryAfter is the server's Retry-After, 0 if none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Body.Error != "" {
		msg += ": " + e.Body.Error
	}
	if e.Body.Detail != "" {
		msg += " (" + e.Body.Detail + ")"
	}
	return msg
}

// IsUnauthorized reports whether err says the credential was refused: the
// agent must enroll again.
func IsUnauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusUnauthorized
}

// Enroll trades an enroll token for a credential.
func (c *Client) Enroll(ctx context.Context, req agentapi.EnrollRequest) (agentapi.EnrollResponse, error) {
	var resp agentapi.EnrollResponse
	err := c.post(ctx, agentapi.PathEnroll, false, req, &resp)
	return resp, err
}

// Checkin sends a report or a heartbeat.
func (c *Client) Checkin(ctx context.Context, req agentapi.CheckinRequest) (agentapi.CheckinResponse, error) {
	var resp agentapi.CheckinResponse
	err := c.post(ctx, agentapi.PathCheckin, true, req, &resp)
	return resp, err
}

func (c *Client) post(ctx context.Context, path string, authenticated bool, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encoding request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if authenticated {
		if c.credential == "" {
			return errors.New("not enrolled: no agent credential")
		}
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	// Bound what we read: a misconfigured URL pointing at something that
	// streams forever must not fill the agent's memory.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: reading answer: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, &se.Body) // a non-JSON error body still yields the status
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.RetryAfter = time.Duration(s) * time.Second
		}
		return fmt.Errorf("POST %s: %w", path, se)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("POST %s: decoding answer: %w", path, err)
	}
	return nil
}
