package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"chatbook/exercises/tools/chattest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const (
	// wait is how long a test waits for a line that should come. The server answers
	// in microseconds; the rest is room for a busy machine and the race detector.
	wait = 3 * time.Second
	// shutdownBound is how long a shutdown may take, a stuck client included.
	shutdownBound = 10 * time.Second
)

// TestMain fails the package if any goroutine outlives its test: every client's
// goroutine must end when the client leaves or the server stops. (It also
// removes the program that chattest.Program built for the tests that run it.)
//
// Tests that spend most of their time waiting call t.Parallel, so that their
// waits overlap. Tests that look for goroutines left over in the whole process
// do not: go test runs them before the parallel ones, one at a time.
func TestMain(m *testing.M) { chattest.Main(m) }

// welcome matches `Welcome NAME (N online)` and captures NAME and N.
var welcome = regexp.MustCompile(`^Welcome ([A-Za-z0-9_-]{1,20}) \((\d+) online\)$`)

// testServer is a server running in the test, on a fresh port of 127.0.0.1.
type testServer struct {
	srv      *Server
	addr     string
	served   chan struct{} // closed when Serve returns
	serveErr error         // what Serve returned; read it after served is closed
}

// startServer serves on l, or on a fresh listener if l is nil, until the test ends.
func startServer(t *testing.T, l net.Listener) *testServer {
	t.Helper()
	if l == nil {
		var err error
		l, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
	}
	ts := &testServer{srv: NewServer(log.New(io.Discard, "", 0)), addr: l.Addr().String(), served: make(chan struct{})}
	go func() {
		ts.serveErr = ts.srv.Serve(l)
		close(ts.served)
	}()
	t.Cleanup(func() {
		ts.srv.Close() // after a Shutdown this finds nothing left to do
		<-ts.served
		assert.NoError(t, ts.serveErr, "Serve must return nil when the server is stopped")
	})
	return ts
}

// shutdownMethod returns the server's Shutdown method. The starting point of this
// exercise has none, and these tests must still compile against it, so they look
// the method up while running rather than call it directly.
func shutdownMethod(t *testing.T, srv *Server) func(context.Context) error {
	t.Helper()
	sd, ok := any(srv).(interface{ Shutdown(context.Context) error })
	if !ok {
		t.Fatal("Server has no method Shutdown(ctx context.Context) error yet")
	}
	return sd.Shutdown
}

// shutdown calls Shutdown with shutdownBound to spare and fails the test unless
// it returns nil in that time.
func shutdown(t *testing.T, srv *Server) {
	t.Helper()
	sd := shutdownMethod(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- sd(ctx) }()
	select {
	case err := <-done:
		require.NoError(t, err, "Shutdown ran out of time: is a write to a client that never reads holding it up?")
		t.Logf("Shutdown took %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(shutdownBound + wait):
		t.Fatalf("Shutdown had not returned after %v, although its context ended after %v", shutdownBound+wait, shutdownBound)
	}
}

// client is one chat user on a real socket.
type client struct {
	conn net.Conn
	r    *bufio.Reader
	name string // from the welcome line
}

// join connects to addr, reads the welcome line, and hangs up when the test ends.
func join(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, wait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	c := &client{conn: conn, r: bufio.NewReader(conn)}
	line, err := c.read(wait)
	require.NoError(t, err, "no welcome line")
	m := welcome.FindStringSubmatch(line)
	require.NotNil(t, m, "first line %q is not `Welcome NAME (N online)`", line)
	c.name = m[1]
	return c
}

// read returns the next line without its line ending, waiting at most d.
func (c *client) read(d time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	line, err := c.r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// expect fails the test unless the next line is want.
func (c *client) expect(t *testing.T, want string) {
	t.Helper()
	line, err := c.read(wait)
	require.NoError(t, err, "%s waited for %q", c.name, want)
	require.Equal(t, want, line, "what %s got", c.name)
}

// send sends line to the server with a newline, as nc does.
func (c *client) send(t *testing.T, line string) {
	t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(wait))
	_, err := io.WriteString(c.conn, line+"\n")
	require.NoError(t, err)
}

// rest reads until the server hangs up and returns the last line that came. It
// returns an error if the connection has not ended within d. It does not fail
// the test itself, so other goroutines may call it.
func (c *client) rest(d time.Duration) (last string, err error) {
	deadline := time.Now().Add(d)
	for {
		c.conn.SetReadDeadline(deadline)
		line, err := c.r.ReadString('\n')
		if line != "" {
			last = strings.TrimRight(line, "\r\n")
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return last, fmt.Errorf("%s: still connected after %v", c.name, d)
		}
		if err != nil {
			return last, nil // io.EOF, or a reset: either way the server hung up
		}
	}
}

func TestQuit(t *testing.T) {
	ts := startServer(t, nil)
	a := join(t, ts.addr)
	b := join(t, ts.addr)
	a.expect(t, b.name+" joined (2 online)")

	a.send(t, "/quit")
	a.expect(t, "Goodbye "+a.name)
	// a goes on typing, as somebody might who has not noticed. The server has
	// hung up on a: nobody hears that line, b hears that a left, and a reads
	// the end of its connection (or a reset, for the line it sent too late).
	io.WriteString(a.conn, "am I still here?\n") // an error here only means the hang-up came first
	b.expect(t, a.name+" left (1 online)")
	_, err := a.read(wait)
	require.Error(t, err, "after the goodbye the server must hang up")
	require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "after the goodbye the server must hang up")

	// telnet's \r\n works too, and the server goes on serving the others.
	c := join(t, ts.addr)
	b.expect(t, c.name+" joined (2 online)")
	_, err = io.WriteString(c.conn, "/quit\r\n")
	require.NoError(t, err)
	c.expect(t, "Goodbye "+c.name)
	b.expect(t, c.name+" left (1 online)")
}

func TestShutdownTellsEveryClientAndStopsAccepting(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	clients := []*client{join(t, ts.addr), join(t, ts.addr), join(t, ts.addr)}

	shutdown(t, ts.srv)

	for _, c := range clients {
		last, err := c.rest(wait)
		require.NoError(t, err, "the server must hang up on every client")
		require.Contains(t, last, "shutting down", "%s: the last line must tell the server is shutting down", c.name)
	}
	select {
	case <-ts.served:
		require.NoError(t, ts.serveErr, "Serve must return nil after Shutdown")
	case <-time.After(wait):
		t.Fatal("Serve has not returned after Shutdown")
	}
	// Nobody is listening any more: a newcomer is refused by the system.
	conn, err := net.DialTimeout("tcp", ts.addr, wait)
	if err == nil {
		conn.Close()
	}
	require.Error(t, err, "the server still accepts connections after Shutdown")
}

// smallBuffers is a listener whose connections have a small kernel send buffer,
// so that a client that does not read blocks the server's writes after some
// kilobytes rather than some megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// stall blocks the server on a client that never reads: flooder sends chat lines
// until the server stops taking them, as it waits to write to that client. It returns
// once the flooder's writes have made no progress for half a second (or after
// 20 MB, in case the server drops the stuck client quickly), so that the test
// goes on while the server is still blocked.
func stall(t *testing.T, flooder *client) {
	t.Helper()
	line := strings.Repeat("x", 1000) + "\n"
	for range 20_000 {
		flooder.conn.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := io.WriteString(flooder.conn, line); err != nil {
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			return
		}
	}
}

// A client that stops reading must not stop the server from stopping: Shutdown
// returns in time, the healthy clients are told, and no goroutine is left.
func TestShutdownFinishesDespiteAClientThatNeverReads(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := startServer(t, smallBuffers{l})
	shutdownMethod(t, ts.srv) // fail now, not after the flood, if there is none

	stuck, flooder, readerDone := stuckServer(t, ts.addr)

	shutdown(t, ts.srv)

	r := <-readerDone // rest gives up on its own after its deadline
	require.NoError(t, r.err)
	require.Contains(t, r.last, "shutting down", "the reader's last line must tell the server is shutting down")
	last, err := flooder.rest(wait)
	require.NoError(t, err)
	require.Contains(t, last, "shutting down", "the flooder's last line must tell the server is shutting down")
	_, err = stuck.rest(shutdownBound)
	require.NoError(t, err, "the server must hang up on the stuck client too")

	select { // Serve's goroutine is the test's, not the server's: wait for it first
	case <-ts.served:
	case <-time.After(wait):
		t.Fatal("Serve has not returned after Shutdown")
	}
	goleak.VerifyNone(t)
}

// result is the last line a reader got before its connection ended, and why it ended.
type result struct {
	last string
	err  error
}

// stuckServer joins three clients: one that reads everything, all along (its result
// arrives on readerDone when its connection ends), one that never reads again (stuck),
// and one that floods the chat until the server is blocked writing to stuck.
func stuckServer(t *testing.T, addr string) (stuck, flooder *client, readerDone <-chan result) {
	t.Helper()
	reader := join(t, addr)
	stuck = join(t, addr)
	flooder = join(t, addr)
	done := make(chan result, 1)
	go func() {
		last, err := reader.rest(shutdownBound + wait)
		done <- result{last, err}
	}()
	stall(t, flooder)
	return stuck, flooder, done
}
