// Package client speaks the agent API: enroll and check in. parc-agent and
// parc-sim both use it, so the simulator exercises the real agent's wire
// behaviour.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

// Client talks to parc-server: one, or any replica of a cluster.
type Client struct {
	// servers are the replicas, in the order given; cur indexes the one
	// in use, which changes when it cannot be reached.
	servers    []*url.URL
	cur        atomic.Int32
	http       *http.Client
	credential string
	userAgent  string
}

// New returns a client for the server at serverURL (scheme, host, port),
// or for a cluster given as a comma-separated list of its replicas' URLs:
// the client uses the first until it cannot connect, then the next.
// httpClient carries timeouts and TLS settings; nil means a default with a
// one-minute timeout.
func New(serverURL string, httpClient *http.Client, userAgent string) (*Client, error) {
	servers, err := ParseServers(serverURL)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: time.Minute}
	}
	return &Client{servers: servers, http: httpClient, userAgent: userAgent}, nil
}

// ParseServers parses a server URL or a comma-separated list of the URLs of
// a cluster's replicas, all with the same scheme (they share one CA).
func ParseServers(list string) ([]*url.URL, error) {
	var servers []*url.URL
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("server URL %q: want https://host:port (several, for a cluster: separated by commas)", raw)
		}
		if len(servers) > 0 && u.Scheme != servers[0].Scheme {
			return nil, fmt.Errorf("server URLs %s and %s: all replicas of a cluster use the same scheme", servers[0], u)
		}
		servers = append(servers, u)
	}
	return servers, nil
}

// Server returns the URL of the server in use.
func (c *Client) Server() string { return c.base().String() }

func (c *Client) base() *url.URL { return c.servers[int(c.cur.Load())%len(c.servers)] }

// failover moves to the next server after from (the index a failed
// request used), unless another request already moved on.
func (c *Client) failover(from int32) {
	if len(c.servers) > 1 {
		c.cur.CompareAndSwap(from, (from+1)%int32(len(c.servers)))
	}
}

// send sends the request newReq makes for a server's base URL. When the
// server cannot be reached it moves to the next one, and sends the request
// there at once when that is safe: when it cannot have arrived (the
// connection was refused or never made), or when sending it twice does no
// harm (idempotent: a check-in, which the server acknowledges again by its
// sequence number without storing it twice, or a GET). So a dead replica
// costs a check-in nothing. Another request that failed (an enrolment,
// whose token may have been spent) returns its error, and the next request
// goes to the next server.
func (c *Client) send(hc *http.Client, idempotent bool, newReq func(base *url.URL) (*http.Request, error)) (*http.Response, error) {
	var err error
	for range c.servers {
		from := c.cur.Load()
		var req *http.Request
		if req, err = newReq(c.servers[int(from)%len(c.servers)]); err != nil {
			return nil, err
		}
		if c.userAgent != "" {
			req.Header.Set("User-Agent", c.userAgent)
		}
		var resp *http.Response
		resp, err = hc.Do(req)
		if err == nil {
			if resp.StatusCode == http.StatusServiceUnavailable {
				c.failover(from) // e.g. its etcd member lost the quorum
			}
			return resp, nil
		}
		c.failover(from)
		if !(idempotent || notSent(err)) || req.Context().Err() != nil {
			return nil, err
		}
	}
	return nil, err
}

// notSent reports whether err says the request never left: no connection
// could be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// SetCredential sets the agent credential sent with every check-in.
func (c *Client) SetCredential(cred string) { c.credential = cred }

// HTTPS reports whether the server URL is https.
func (c *Client) HTTPS() bool { return c.base().Scheme == "https" }

// PinCA makes cas the only certificates the client trusts for the server:
// the system's roots no longer count.
func (c *Client) PinCA(cas []*x509.Certificate) {
	c.http = PinnedHTTPClient(cas, c.http.Timeout)
}

// PinnedHTTPClient is an HTTP client trusting only cas, with timeout.
func PinnedHTTPClient(cas []*x509.Certificate, timeout time.Duration) *http.Client {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: timeout, Transport: t}
}

// FetchCA fetches the server's CA bundle and returns the certificate whose
// hash is caHash (agentapi.CAHash), in PEM. The connection is not verified
// (there is nothing to verify it with yet) and nothing secret is sent on
// it: what it returns is trusted only because its hash matches the one the
// enroll token carries, which a machine in between cannot forge.
func (c *Client) FetchCA(ctx context.Context, caHash string) ([]byte, *x509.Certificate, error) {
	if !c.HTTPS() {
		return nil, nil, errors.New("the server URL is not https: there is no CA to fetch")
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Unverified on purpose: the certificate fetched is checked by its hash.
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Timeout: c.http.Timeout, Transport: t}
	defer t.CloseIdleConnections()
	resp, err := c.send(hc, true, func(base *url.URL) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, base.String()+agentapi.PathCA, nil)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", agentapi.PathCA, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, agentapi.MaxCABundleBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", agentapi.PathCA, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: server answered %s", agentapi.PathCA, resp.Status)
	}
	ca, err := agentapi.PinnedCA(data, caHash)
	if err != nil {
		return nil, nil, fmt.Errorf("CA of %s: %w", resp.Request.URL.Host, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), ca, nil
}

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

var errNotEnrolled = errors.New("not enrolled: no agent credential")

// Enroll trades an enroll token for a credential.
func (c *Client) Enroll(ctx context.Context, req agentapi.EnrollRequest) (agentapi.EnrollResponse, error) {
	var resp agentapi.EnrollResponse
	err := c.post(ctx, agentapi.PathEnroll, "", false, req, &resp)
	return resp, err
}

// Checkin sends a report or a heartbeat.
func (c *Client) Checkin(ctx context.Context, req agentapi.CheckinRequest) (agentapi.CheckinResponse, error) {
	var resp agentapi.CheckinResponse
	if c.credential == "" {
		return resp, errNotEnrolled
	}
	err := c.post(ctx, agentapi.PathCheckin, c.credential, true, req, &resp)
	return resp, err
}

// RotateCredential asks for a new credential. The current one stays valid
// until ConfirmCredential with the new one succeeds: keep the new one on
// disk before confirming it.
func (c *Client) RotateCredential(ctx context.Context) (agentapi.CredentialResponse, error) {
	var resp agentapi.CredentialResponse
	if c.credential == "" {
		return resp, errNotEnrolled
	}
	err := c.post(ctx, agentapi.PathCredentialRotate, c.credential, false, struct{}{}, &resp)
	return resp, err
}

// ConfirmCredential makes cred, from RotateCredential, the agent's only
// credential, and uses it from then on.
func (c *Client) ConfirmCredential(ctx context.Context, cred string) (agentapi.CredentialResponse, error) {
	var resp agentapi.CredentialResponse
	if err := c.post(ctx, agentapi.PathCredentialConfirm, cred, false, struct{}{}, &resp); err != nil {
		return resp, err
	}
	c.credential = cred
	return resp, nil
}

// post sends in as JSON with bearer as credential ("" for none: enrolling)
// and decodes the answer into out; idempotent says it may be sent again
// to another server after a failure (see send).
func (c *Client) post(ctx context.Context, path string, bearer string, idempotent bool, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encoding request: %w", err)
	}
	resp, err := c.send(c.http, idempotent, func(base *url.URL) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		return req, nil
	})
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

// Speedtest starts a download of n incompressible bytes from the server's
// speed test and returns the response, whose Body the caller reads and
// closes. A configured URL other than the server's is fetched without the
// agent's credential.
func (c *Client) Speedtest(ctx context.Context, n int64, target string) (*http.Response, error) {
	servers := c
	if target != "" {
		// Another URL than the server's: nothing to fail over to.
		servers = &Client{servers: c.servers[:1], userAgent: c.userAgent}
	}
	resp, err := servers.send(c.http, true, func(base *url.URL) (*http.Request, error) {
		u, bearer := target, ""
		if u == "" {
			u = fmt.Sprintf("%s%s?bytes=%d", base.String(), agentapi.PathSpeedtest, n)
			bearer = c.credential
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		// Ask for the bytes as they are: a compressed answer measures nothing.
		req.Header.Set("Accept-Encoding", "identity")
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", agentapi.PathSpeedtest, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		se := &StatusError{Status: resp.StatusCode}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, fmt.Errorf("GET %s: %w", resp.Request.URL.Path, se)
	}
	return resp, nil
}
