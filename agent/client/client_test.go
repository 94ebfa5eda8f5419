package client

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parc-project/parc/agent/agentapi"
)

func TestParseServers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  string
	}{
		{"https://parc.example.org:8443", 1, ""},
		{"https://a:8443, https://b:8443/,https://c:8443", 3, ""},
		{"https://a:8443,", 0, "want https://host:port"},
		{"https://a:8443,http://b:8080", 0, "same scheme"},
		{"parc.example.org", 0, "want https://host:port"},
	} {
		got, err := ParseServers(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != tc.want {
			t.Errorf("%q: %v %v, want %d servers", tc.in, got, err, tc.want)
		}
	}
}

// replica answers check-ins and counts them.
func replica(t *testing.T, status int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(agentapi.CheckinResponse{Accepted: status == http.StatusOK, Seq: 1})
	}))
	t.Cleanup(s.Close)
	return s, &n
}

// refused is a URL nothing listens on.
func refused(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

func checkin(c *Client) error {
	_, err := c.Checkin(context.Background(), agentapi.CheckinRequest{Kind: agentapi.KindHeartbeat, Heartbeat: &agentapi.Heartbeat{}})
	return err
}

func TestFailoverToTheNextReplica(t *testing.T) {
	b, nb := replica(t, http.StatusOK)
	down := refused(t)
	c, err := New(down+","+b.URL, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	c.SetCredential("pa_x")
	// The first replica refuses connections: the same check-in goes to
	// the next at once, which stays in use.
	if err := checkin(c); err != nil {
		t.Fatalf("check-in with one replica down: %v", err)
	}
	if c.Server() != b.URL || nb.Load() != 1 {
		t.Errorf("in use %s after %d check-ins on it, want %s after 1", c.Server(), nb.Load(), b.URL)
	}
	if err := checkin(c); err != nil || nb.Load() != 2 {
		t.Errorf("second check-in: %v, %d on the live replica", err, nb.Load())
	}
	// All down: an error, after one try of each.
	c2, _ := New(refused(t)+","+refused(t), nil, "test")
	c2.SetCredential("pa_x")
	if err := checkin(c2); err == nil {
		t.Error("check-in with every replica down succeeded")
	}
}

func TestResendOnlyWhatIsSafeToResend(t *testing.T) {
	// The first replica takes every request and drops the connection: the
	// request may have been processed. A check-in is sent again to the
	// next replica at once (the server acknowledges a report it holds
	// again, by its number); an enrolment is not (its token may be spent),
	// but the next request goes to the next replica.
	var na atomic.Int32
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		na.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(a.Close)
	b, nb := replica(t, http.StatusOK)

	c, _ := New(a.URL+","+b.URL, nil, "test")
	c.SetCredential("pa_x")
	if err := checkin(c); err != nil {
		t.Fatalf("check-in whose first replica dropped the connection: %v", err)
	}
	if na.Load() != 1 || nb.Load() != 1 {
		t.Errorf("check-in sent %d times to the first, %d to the second; want once each", na.Load(), nb.Load())
	}

	na.Store(0)
	nb.Store(0)
	c, _ = New(a.URL+","+b.URL, nil, "test")
	if _, err := c.Enroll(context.Background(), agentapi.EnrollRequest{Token: "pe_x", Hostname: "h"}); err == nil {
		t.Fatal("an enrolment whose connection dropped succeeded")
	}
	if na.Load() != 1 || nb.Load() != 0 {
		t.Errorf("enrolment sent %d times to the first, %d to the second; want once, and not resent", na.Load(), nb.Load())
	}
	c.SetCredential("pa_x")
	if err := checkin(c); err != nil || nb.Load() != 1 || na.Load() != 1 {
		t.Errorf("next request: %v; %d on the first, %d on the second, want it on the second", err, na.Load(), nb.Load())
	}
}

func TestUnavailableReplicaIsLeftForTheNext(t *testing.T) {
	a, na := replica(t, http.StatusServiceUnavailable)
	b, nb := replica(t, http.StatusOK)
	c, _ := New(a.URL+","+b.URL, nil, "test")
	c.SetCredential("pa_x")
	if err := checkin(c); err == nil {
		t.Fatal("503 was a success")
	}
	if err := checkin(c); err != nil {
		t.Fatalf("after a 503 the next check-in: %v", err)
	}
	if na.Load() != 1 || nb.Load() != 1 {
		t.Errorf("%d on the unavailable replica, %d on the next; want 1 and 1", na.Load(), nb.Load())
	}
}
