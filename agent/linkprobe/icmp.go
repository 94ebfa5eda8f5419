package linkprobe

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/parc-project/parc/agent/agentapi"
)

// icmpPinger sends ICMP echo over an unprivileged "ping socket" (network
// "udp4"): Linux allows it to the groups of net.ipv4.ping_group_range,
// macOS to everyone. No raw socket, so the agent needs no privilege.
type icmpPinger struct {
	conn *icmp.PacketConn
	id   int
	seq  int
}

func openPinger() (*icmpPinger, error) {
	conn, err := icmp.ListenPacket("udp4", "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("opening an ICMP ping socket: %w", err)
	}
	return &icmpPinger{conn: conn, id: os.Getpid() & 0xffff}, nil
}

// Close releases the socket.
func (p *icmpPinger) Close() error { return p.conn.Close() }

// probe sends attempts echo requests to host, one after the other, each
// waiting up to timeout for its own reply.
func (p *icmpPinger) probe(ctx context.Context, host string, attempts int, timeout time.Duration, now func() time.Time) agentapi.LinkTarget {
	ip, err := resolve4(ctx, host, timeout)
	if err != nil {
		return agentapi.LinkTarget{Target: host, Method: agentapi.ProbeICMP, Error: err.Error()}
	}
	var rtts []time.Duration
	var lastErr error
	sent := 0
	for range attempts {
		if ctx.Err() != nil {
			break
		}
		sent++
		rtt, err := p.echo(ip, timeout, now)
		if err != nil {
			lastErr = err
			continue
		}
		rtts = append(rtts, rtt)
	}
	return summarize(host, agentapi.ProbeICMP, sent, rtts, lastErr)
}

func resolve4(ctx context.Context, host string, timeout time.Duration) (net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			return ip4, nil
		}
		return nil, fmt.Errorf("%s: ICMP probes are IPv4 only", host)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	return ips[0], nil
}

// echo sends one request and waits for the reply carrying its payload
// (the kernel rewrites a ping socket's id, so replies are matched by
// sequence number and payload).
func (p *icmpPinger) echo(ip net.IP, timeout time.Duration, now func() time.Time) (time.Duration, error) {
	p.seq = (p.seq + 1) & 0xffff
	payload := make([]byte, 16)
	rand.Read(payload)
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: p.seq, Data: payload}}
	wire, err := msg.Marshal(nil)
	if err != nil {
		return 0, err
	}
	start := now()
	if err := p.conn.SetDeadline(start.Add(timeout)); err != nil {
		return 0, err
	}
	if _, err := p.conn.WriteTo(wire, &net.UDPAddr{IP: ip}); err != nil {
		return 0, fmt.Errorf("sending ICMP echo to %s: %w", ip, err)
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, fmt.Errorf("no ICMP echo reply from %s within %s", ip, timeout)
			}
			return 0, err
		}
		reply, err := icmp.ParseMessage(1, buf[:n]) // 1: ICMP for IPv4
		if err != nil || reply.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		if e, ok := reply.Body.(*icmp.Echo); ok && e.Seq == p.seq && bytes.Equal(e.Data, payload) {
			return now().Sub(start), nil
		}
	}
}
