package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	churn     = flag.Int("churn", 100, "BenchmarkChurn: how many connections open and close at once")
	churnAddr = flag.String("churn-addr", "", "BenchmarkChurn: the `host:port` of a chat server to churn, instead of one of its own")
)

// BenchmarkChurn: -churn connections open at once, then close at once; right
// after, a fresh pair connects and one says a line to the other. It reports how
// long, from the moment the crowd began to hang up, the pair took to be served.
// A server that writes every join and leave notice to every client under its
// lock takes time that grows with the square of the crowd; this one does not.
// With -churn-addr it churns a server that runs already, another exercise's
// answer for instance, which must welcome and prefix lines as this one does.
//
//	go test -run '^$' -bench Churn -benchtime 1x ./exercises/complete/answer -args -churn=3000
func BenchmarkChurn(b *testing.B) {
	n := *churn
	addr := *churnAddr
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := parseFlags([]string{"-max-clients", fmt.Sprint(2*n + 10), "-max-per-addr", fmt.Sprint(2*n + 10)},
			log.New(io.Discard, "", 0), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		srv := cfg.srv
		go srv.Serve(l)
		defer srv.Close()
		addr = l.Addr().String()
	}

	var worst time.Duration
	for b.Loop() {
		conns := make([]net.Conn, n)
		var wg sync.WaitGroup
		for i := range conns {
			spawn(&wg, func() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				conns[i] = c
			})
		}
		wg.Wait()
		start := time.Now()
		for _, c := range conns {
			if c != nil {
				spawn(&wg, func() { c.Close() })
			}
		}
		wg.Wait()
		a, c := patientDial(b, addr), patientDial(b, addr) // a server that stalls may take minutes
		io.WriteString(a.conn, "ping\n")
		for line := ""; !strings.HasSuffix(line, ": ping\n"); {
			var err error
			if line, err = c.r.ReadString('\n'); err != nil {
				b.Fatal(err)
			}
		}
		worst = max(worst, time.Since(start))
		a.conn.Close()
		c.conn.Close()
	}
	b.ReportMetric(worst.Seconds(), "s-to-serve-a-fresh-pair")
}

// patientDial connects to addr and reads the welcome line, waiting up to ten
// minutes for each: dial's few seconds are too short for a server that stalls.
func patientDial(b *testing.B, addr string) *user {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Minute))
	c := &user{conn: conn, r: bufio.NewReader(conn)}
	if _, err := c.r.ReadString('\n'); err != nil {
		b.Fatal("no welcome line: ", err)
	}
	return c
}
