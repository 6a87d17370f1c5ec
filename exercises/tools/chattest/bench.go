package chattest

// The benchmarks of the broadcast, over real sockets on 127.0.0.1, that stage5
// and the slow and hub exercises share: the same clients and the same checks for
// every server, so that their figures compare. Each package runs them from a
// bench_test.go of two lines:
//
//	func BenchmarkBroadcast(b *testing.B)     { chattest.BenchmarkBroadcast(b, NewServer) }
//	func BenchmarkEveryoneSends(b *testing.B) { chattest.BenchmarkEveryoneSends(b, NewServer) }
//
// The clients run in the same process as the server, on the same cores: the
// figures are for comparing servers on one machine, not a promise about a
// network.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchPatience is how long a benchmark waits for a line before it calls the
// server stuck. Only a broken server ever makes it wait that long.
const benchPatience = 20 * time.Second

// BenchmarkBroadcast: one client sends a line, and the op ends when each of the
// other clients has it, with 10, 100 and 1,000 listeners (the sub-benchmarks
// clients=10, clients=100, clients=1000). It shows what one broadcast costs as
// the chat grows.
func BenchmarkBroadcast[S Server](b *testing.B, newServer func(*log.Logger) S) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			cs := startBenchChat(b, n+1, newServer) // a sender and n listeners
			sender, listeners := cs[0], cs[1:]

			// Each listener adds one to got for each line; the one that makes it
			// n tells the sender that everybody has the line.
			var got atomic.Int64
			everybody := make(chan struct{}, 1) // room for one: if we stop early, nobody is stuck sending
			failed := make(chan error, n)
			for _, c := range listeners {
				go func() {
					failed <- c.readLines(-1, func([]byte) error {
						if got.Add(1) == int64(n) {
							got.Store(0)
							everybody <- struct{}{}
						}
						return nil
					})
				}()
			}

			timer := time.NewTimer(benchPatience)
			defer timer.Stop()
			b.ResetTimer()
			for i := range b.N {
				if _, err := fmt.Fprintf(sender.conn, "%d the quick brown fox\n", i); err != nil {
					b.Fatal(err)
				}
				timer.Reset(benchPatience)
				select {
				case <-everybody:
				case err := <-failed:
					b.Fatalf("line %d: a listener stopped: %v", i, err)
				case <-timer.C:
					b.Fatalf("line %d reached only %d of %d listeners in %v", i, got.Load(), n, benchPatience)
				}
			}
			b.StopTimer()
			reportDeliveries(b, n*b.N)
		})
	}
}

// BenchmarkEveryoneSends: 100 clients each send b.N lines as fast as the server
// takes them, and read at the same time. Every line must reach each of the other
// 99 clients, in order, and nobody may be dropped.
func BenchmarkEveryoneSends[S Server](b *testing.B, newServer func(*log.Logger) S) {
	const n = 100
	cs := startBenchChat(b, n, newServer)

	var delivered atomic.Int64 // for the watchdog below
	results := make(chan error, 2*n)
	b.ResetTimer()
	for _, c := range cs {
		go func() { // send as fast as the server takes it
			w := bufio.NewWriterSize(c.conn, 64<<10)
			for i := range b.N {
				fmt.Fprintf(w, "%d the quick brown fox\n", i)
			}
			results <- w.Flush()
		}()
		go func() { // and read at the same time
			// From each sender, the next line must carry the number we expect:
			// a lost, doubled or reordered line stops the benchmark.
			next := make(map[string]*int, n) // sender's name: number of its next line
			var want []byte
			results <- c.readLines((n-1)*b.N, func(line []byte) error {
				from, text, _ := bytes.Cut(line, []byte(": "))
				num, _, _ := bytes.Cut(text, []byte(" "))
				count := next[string(from)]
				if count == nil {
					count = new(int)
					next[string(from)] = count
				}
				if want = strconv.AppendInt(want[:0], int64(*count), 10); !bytes.Equal(num, want) {
					return fmt.Errorf("%s got %q from %s; want line %s", c.name, line, from, want)
				}
				*count++
				delivered.Add(1)
				return nil
			})
		}()
	}

	// Wait for the 2n goroutines. A server may be slow, but it must not stall.
	tick := time.NewTicker(benchPatience)
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
				b.Fatalf("no line delivered for %v (%d of %d so far)", benchPatience, now, n*(n-1)*b.N)
			}
			before = now
		}
	}
	b.StopTimer()
	reportDeliveries(b, n*(n-1)*b.N)
}

// reportDeliveries adds two columns to the benchmark's output: deliveries per
// second, and nanoseconds per delivery (one line reaching one client).
func reportDeliveries(b *testing.B, deliveries int) {
	b.ReportMetric(float64(deliveries)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(deliveries), "ns/delivery")
	b.ReportMetric(0, "ns/op") // an op is a different thing in each benchmark: hide it
}

// benchClient is one client of a benchmark.
type benchClient struct {
	conn net.Conn
	r    *bufio.Reader
	name string // how the server names us: our address
}

// readLines calls f with each line the server sends, without its newline, until
// it has had count lines (count < 0: until the connection ends). It skips the
// greetings that startBenchChat sends. The line is only good until f returns.
func (c *benchClient) readLines(count int, f func(line []byte) error) error {
	for count != 0 {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		line = line[:len(line)-1]
		if bytes.HasSuffix(line, []byte(": "+greeting)) {
			continue
		}
		if err := f(line); err != nil {
			return err
		}
		count--
	}
	return nil
}

// greeting is what startBenchChat's clients say to make sure all are there.
const greeting = "hello, is everybody here?"

// startBenchChat starts newServer's server with n clients on its list, and stops
// it all when the benchmark ends.
func startBenchChat[S Server](b *testing.B, n int, newServer func(*log.Logger) S) []*benchClient {
	b.Helper()
	needFiles(b, 2*n+20) // each client is two sockets here: ours and the server's

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := newServer(log.New(io.Discard, "", 0)) // "Connected" n times would only slow us
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	cs := make([]*benchClient, n)
	b.Cleanup(func() {
		for _, c := range cs {
			if c != nil {
				c.conn.Close() // ends the goroutines still reading or writing
			}
		}
		s.Close()
		if err := <-served; err != nil {
			b.Error(err)
		}
	})
	for i := range cs {
		conn, err := net.DialTimeout("tcp", l.Addr().String(), benchPatience)
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = &benchClient{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), name: conn.LocalAddr().String()}
	}

	// A client is surely on the server's list once it has heard a line from
	// another, and so is the one who spoke. So the first client greets the others
	// every 10 ms until each has heard it.
	heard := make(chan error, n-1)
	for _, c := range cs[1:] {
		go func() {
			line, err := c.r.ReadSlice('\n')
			if err == nil && !bytes.HasSuffix(line, []byte(": "+greeting+"\n")) {
				err = fmt.Errorf("unexpected line %q", line)
			}
			heard <- err
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(benchPatience)
	for waiting := n - 1; waiting > 0; {
		select {
		case err := <-heard:
			if err != nil {
				b.Fatal(err)
			}
			waiting--
		case <-tick.C:
			if _, err := fmt.Fprintf(cs[0].conn, "%s\n", greeting); err != nil {
				b.Fatal(err)
			}
		case <-giveUp:
			b.Fatalf("after %v, %d of %d clients have not heard the greeting", benchPatience, waiting, n-1)
		}
	}
	return cs
}

// needFiles skips the benchmark unless this process may open n more files.
//
// A socket is a file to the operating system, and the number of files a process
// may have open is limited: see `ulimit -n`, or rather `ulimit -Hn`, because Go
// raises the soft limit to the hard one when a program starts. The way to ask
// differs from one system to the next; instead, we simply try.
func needFiles(b *testing.B, n int) {
	b.Helper()
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			suggest := 1024
			for suggest < 2*n {
				suggest *= 2
			}
			b.Skipf("this needs %d open files, and the system allows fewer (%v): "+
				"raise the hard limit, for example `ulimit -n %d` as root, and run it again", n, err, suggest)
		}
		opened = append(opened, f)
	}
}
