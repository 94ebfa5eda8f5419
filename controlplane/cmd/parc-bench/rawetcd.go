package main

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// rawResult is what raw etcd sustained.
type rawResult struct {
	Clients     int     `json:"clients"`
	Conns       int     `json:"conns"`
	ValueBytes  int     `json:"value_bytes"`
	Puts        int64   `json:"puts"`
	Errors      int64   `json:"errors"`
	PutsPerSec  float64 `json:"puts_per_sec"`
	P50Millis   float64 `json:"p50_ms"`
	P99Millis   float64 `json:"p99_ms"`
	Seconds     float64 `json:"seconds"`
	KeysWritten int     `json:"keyspace"`
	// CPU time per put of etcd and of the clients.
	ServerCPUMicros float64 `json:"etcd_cpu_us_per_put"`
	ClientCPUMicros float64 `json:"client_cpu_us_per_put"`
}

// rawPuts writes valueBytes-byte values to random keys of a keyspace from
// clients goroutines over conns connections for d, as etcd's own
// benchmark tool does ("put --clients --conns").
func rawPuts(ctx context.Context, endpoint string, clients, conns, valueBytes int, d time.Duration) (*rawResult, error) {
	cs := make([]*clientv3.Client, conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			return nil, fmt.Errorf("connecting to etcd: %w", err)
		}
		defer c.Close()
		cs[i] = c
	}
	const keyspace = 100_000
	value := make([]byte, valueBytes)
	rand.Read(value) // incompressible, like a report is not
	var puts, errs atomic.Int64
	lat := make([][]time.Duration, clients)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for g := range clients {
		wg.Go(func() {
			c := cs[g%conns]
			for ctx.Err() == nil {
				key := fmt.Sprintf("/bench/raw/%08d", mrand.N(keyspace))
				t0 := time.Now()
				_, err := c.Put(ctx, key, string(value))
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				lat[g] = append(lat[g], time.Since(t0))
				puts.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := &rawResult{Clients: clients, Conns: conns, ValueBytes: valueBytes, Puts: puts.Load(), Errors: errs.Load(),
		Seconds: elapsed.Seconds(), KeysWritten: keyspace}
	r.PutsPerSec = float64(r.Puts) / elapsed.Seconds()
	if len(all) > 0 {
		r.P50Millis = ms(all[len(all)/2])
		r.P99Millis = ms(all[len(all)*99/100])
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
