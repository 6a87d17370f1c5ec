package main

// The shutdown exercise's features (its tests, adapted), held to the stricter
// promises: the notice is the last line, and many stuck clients cost one
// bounded wait in all, not one each.

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestShutdownTellsEveryClientAndStopsAccepting(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	cs := joinAll(t, ts.addr, 3)
	shutdown(t, ts.srv)
	for _, c := range cs {
		lines, err := c.rest(wait)
		require.NoError(t, err, "the server must hang up on every client")
		require.Equal(t, goodbye, last(lines), "%s's last line", c.name)
	}
	select {
	case <-ts.served:
		require.NoError(t, ts.serveErr)
	case <-time.After(wait):
		t.Fatal("Serve has not returned after Shutdown")
	}
	conn, err := net.DialTimeout("tcp", ts.addr, wait)
	if err == nil {
		conn.Close()
	}
	require.Error(t, err, "the server still accepts connections after Shutdown")
}

// Clients talk and send commands as fast as they can while the server shuts
// down. Each gets the notice exactly once, as its very last line: no chat line,
// no notice, no reply to a command after it.
func TestTheNoticeIsTheLastLine(t *testing.T) {
	t.Parallel()
	for range 3 {
		ts := startServer(t)
		cs := joinAll(t, ts.addr, 4)
		stop := make(chan struct{})
		talking := make(chan struct{}, len(cs))
		var wg sync.WaitGroup
		for i, c := range cs {
			spawn(&wg, func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					if n == 100 {
						talking <- struct{}{}
					}
					cmd := []string{"chat %d", "/name n%d", "/nonsense %d", "/name bad name %d"}[(i+n)%4]
					if _, err := fmt.Fprintf(c.conn, cmd+"\n", n); err != nil {
						return // the server hung up
					}
				}
			})
		}
		results := make(chan error, len(cs))
		for _, c := range cs {
			go func() {
				lines, err := c.rest(2 * wait)
				switch n := strings.Count(strings.Join(lines, "\n"), goodbye); {
				case err != nil:
				case n != 1:
					err = fmt.Errorf("%s got the notice %d times", c.name, n)
				case last(lines) != goodbye:
					err = fmt.Errorf("%s: the notice was followed by %.60q", c.name, last(lines))
				}
				results <- err
			}()
		}
		for range cs { // shut down in the middle of the talk
			<-talking
		}
		shutdown(t, ts.srv)
		close(stop)
		wg.Wait()
		for range cs {
			require.NoError(t, <-results)
		}
	}
}

// Twenty clients that do not read and two hundred that do: Shutdown returns nil
// within its time, although every write to a stuck client would wait a minute.
// The stuck clients' waits run side by side, and the lock is never held while
// one runs: the live clients all get the notice, and then the end.
func TestShutdownWithManyStuckClients(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := serveOn(t, smallBuffers{l}, "-max-per-addr", "1000", "-max-line", "65536", "-write-timeout", "1m")
	flooder := join(t, ts.addr)
	var stuck []*user
	for range 20 {
		stuck = append(stuck, stuckClient(t, ts.addr))
	}
	flood(t, flooder, 1<<20, 32<<10) // every stuck client's socket is full
	flooder.send(t, "/name flooder") // its reply comes after the flood: all of it is in the queue
	for line := ""; line != "You are now flooder"; {
		var err error
		line, err = flooder.read()
		require.NoError(t, err)
	}
	live := make([]*user, 200)
	var wg sync.WaitGroup
	for i := range live {
		spawn(&wg, func() {
			c, err := dial(ts.addr)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { c.conn.Close() })
			live[i] = c
		})
	}
	wg.Wait()
	require.False(t, t.Failed())

	errs := make(chan error, len(live))
	for _, c := range live { // they read all along, as live clients do
		go func() {
			lines, err := c.rest(shutdownBound + wait)
			if err == nil && last(lines) != goodbye {
				err = fmt.Errorf("%s's last line is %.60q", c.name, last(lines))
			}
			errs <- err
		}()
	}
	took := shutdown(t, ts.srv)
	require.Less(t, took, shutdownBound)
	for range live {
		require.NoError(t, <-errs)
	}
	for _, c := range stuck {
		c.conn.SetReadDeadline(time.Now().Add(wait))
		_, err := io.Copy(io.Discard, c.conn)
		require.NoError(t, err, "the server must hang up on the stuck clients too")
	}
	<-ts.served
	goleak.VerifyNone(t)
}

// If ctx ends before the clients are done, Shutdown hangs up on everybody and
// says so.
func TestShutdownOutOfTime(t *testing.T) {
	ts := startServer(t)
	join(t, ts.addr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := shutdownMethod(t, ts.srv)(ctx)
	require.ErrorIs(t, err, context.Canceled)
}
