package main

import (
	"chatbook/exercises/tools/chattest"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// manyStuck joins a reader that reads all along (its last line and how its
// connection ended arrive on readerDone), twenty clients that never read, and a
// flooder that chats until the server is blocked writing to them.
func manyStuck(t *testing.T, addr string) (stuck []*client, flooder *client, readerDone <-chan result) {
	t.Helper()
	reader := join(t, addr)
	for range 20 {
		stuck = append(stuck, join(t, addr))
	}
	flooder = join(t, addr)
	done := make(chan result, 1)
	go func() {
		last, err := reader.rest(shutdownBound + wait)
		done <- result{last, err}
	}()
	// Long lines: each one fills what is left of every stuck client's buffers at
	// once, so that they all block in the same broadcast.
	line := strings.Repeat("x", 60_000) + "\n"
	for range 400 {
		flooder.conn.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := io.WriteString(flooder.conn, line); err != nil {
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			break
		}
	}
	return stuck, flooder, done
}

// Twenty clients stop reading at the same moment. If the server wrote to them one
// after the other, each write waiting its whole timeout with the lock held, the
// first line after that would take twenty timeouts (40s), and Shutdown, which
// needs the lock, would run out of time. The waits must run side by side.
func TestShutdownWithManyStuckClients(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := startServer(t, smallBuffers{l})
	shutdownMethod(t, ts.srv)

	stuck, flooder, readerDone := manyStuck(t, ts.addr)
	shutdown(t, ts.srv)

	r := <-readerDone
	require.NoError(t, r.err)
	require.Contains(t, r.last, "shutting down", "the reader's last line must tell the server is shutting down")
	last, err := flooder.rest(wait)
	require.NoError(t, err)
	require.Contains(t, last, "shutting down", "the flooder's last line must tell the server is shutting down")
	for _, c := range stuck {
		_, err := c.rest(wait)
		require.NoError(t, err, "the server must hang up on the stuck clients too")
	}
	<-ts.served
	goleak.VerifyNone(t)
}

// Clients send chat, renames, bad names and unknown commands as fast as they can
// while the server shuts down. Each gets the notice once, as its very last line:
// no chat line, notice, or reply to a command after it.
func TestNothingAfterTheNotice(t *testing.T) {
	t.Parallel()
	for range 3 {
		ts := startServer(t, nil)
		var cs []*client
		for range 4 {
			cs = append(cs, join(t, ts.addr))
		}
		stop := make(chan struct{})
		talking := make(chan struct{}, len(cs))
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					if n == 50 {
						talking <- struct{}{}
					}
					cmd := []string{"chat %d", "/name n%d", "/nonsense %d", "/name bad name %d"}[(i+n)%4]
					if _, err := fmt.Fprintf(c.conn, cmd+"\n", n); err != nil {
						return // the server hung up
					}
				}
			}()
		}
		results := make(chan error, len(cs))
		for _, c := range cs {
			go func() {
				var lines []string
				var err error
				for err == nil {
					var line string
					if line, err = c.read(2 * wait); line != "" {
						lines = append(lines, line)
					}
				}
				all := strings.Join(lines, "\n")
				switch n := strings.Count(all, "shutting down"); {
				case n != 1:
					err = fmt.Errorf("%s got the notice %d times", c.name, n)
				case !strings.Contains(lines[len(lines)-1], "shutting down"):
					err = fmt.Errorf("%s: the notice was followed by %q", c.name, lines[len(lines)-1])
				default:
					err = nil
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

// SIGTERM with twenty stuck clients: the program exits with status 0, in time.
func TestSIGTERMWithManyStuckClients(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a test cannot send SIGTERM to a program on Windows")
	}
	t.Parallel()
	s := run(t, chattest.Program(t))
	_, _, readerDone := manyStuck(t, s.addr)
	s.stop(t, syscall.SIGTERM)
	r := <-readerDone
	require.NoError(t, r.err)
	require.Contains(t, r.last, "shutting down")
}
