package main

// A benchmark of the room over real sockets on 127.0.0.1, with the broker inside
// the test process. A plain `go test` does not run it; ask for it, and set it
// beside the single server of the slow exercise, which has the same benchmark with
// all its clients on one server:
//
//	cd exercises/cluster && go test -run '^$' -bench . ./answer
//	go test -run '^$' -bench EveryoneSends ./exercises/slow/answer    # from the root
//
// Everything, the broker and the clients too, runs in one process on the same
// cores: the figures compare ways of building the chat on one machine. On many
// machines each server would have cores of its own.

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEveryoneSends: 99 clients (98 for two servers), spread evenly over 1, 2
// or 3 servers, each send b.N lines as fast as their server takes them, and read at
// the same time. Every line must reach every other client, each sender's in order. With one
// server, each line goes to NATS too, but to nobody there (there is no other
// server): that is the cost of publishing. With more, the others' lines come
// through the broker: that is the cost of the hop.
func BenchmarkEveryoneSends(b *testing.B) {
	for _, servers := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("servers=%d", servers), func(b *testing.B) {
			br := newBroker(b)
			peers := dialAll(b, startServers(b, br.url(), servers), 99/servers)
			n := len(peers) // 98 with two servers

			var delivered atomic.Int64 // for the watchdog below
			results := make(chan error, 2*n)
			b.ResetTimer()
			for _, p := range peers {
				go func() { // send as fast as the server takes it
					w := bufio.NewWriterSize(p, 64<<10)
					for i := range b.N {
						fmt.Fprintf(w, "%d the quick brown fox\n", i)
					}
					results <- w.Flush()
				}()
				go func() { // and read at the same time, checking each sender's order
					results <- p.readNumbered((n-1)*b.N, &delivered)
				}()
			}
			tick := time.NewTicker(patience)
			defer tick.Stop()
			before := int64(-1)
			for done := 0; done < 2*n; {
				select {
				case err := <-results:
					if err != nil {
						b.Fatal(err)
					}
					done++
				case <-tick.C:
					now := delivered.Load()
					if now == before {
						b.Fatalf("no line delivered for %v (%d of %d so far)", patience, now, n*(n-1)*b.N)
					}
					before = now
				}
			}
			b.StopTimer()
			deliveries := n * (n - 1) * b.N
			b.ReportMetric(float64(deliveries)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(deliveries), "ns/delivery")
			b.ReportMetric(0, "ns/op") // an op is many lines here: hide it
		})
	}
}

// readNumbered reads count lines "ADDR@SERVER: N ..." and requires each sender's
// numbers to come in order from 0. It counts each line in delivered.
func (p *peer) readNumbered(count int, delivered *atomic.Int64) error {
	p.SetReadDeadline(time.Time{}) // the benchmark's watchdog looks out for a stall
	next := map[string]int{}
	var want []byte
	for range count {
		line, err := p.r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		from, text, _ := bytes.Cut(line, []byte(": "))
		num, _, _ := bytes.Cut(text, []byte(" "))
		count := next[string(from)]
		if want = strconv.AppendInt(want[:0], int64(count), 10); !bytes.Equal(num, want) {
			return fmt.Errorf("%s got %q from %s; want line %s", p.name, line, from, want)
		}
		next[string(from)] = count + 1
		delivered.Add(1)
	}
	return nil
}
