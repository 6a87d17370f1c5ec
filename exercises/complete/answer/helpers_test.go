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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const (
	// wait is how long a test waits for a line that should come. The server answers
	// in microseconds; the rest is room for a busy machine and the race detector.
	wait = 5 * time.Second
	// shutdownBound is the time limit the tests give Shutdown.
	shutdownBound = 3 * time.Second
)

// goodbye is the line every client reads last when the server shuts down.
const goodbye = "The server is shutting down. Goodbye!"

// serverArgs is set when a test runs this very binary as the chat program.
const serverArgs = "CHATBOOK_SERVER_ARGS"

// The longer tests call t.Parallel, so that their waits (for a timeout, a
// linger, a program to stop) overlap. Tests that measure the whole process, its
// heap or the goroutines left, do not: go test runs them before the parallel
// ones, one at a time, with nothing else running; so does one whose check
// depends on when a goroutine gets the CPU (TestStuckClientIsDropped).

// TestMain runs the tests and then fails if any goroutine is still running. Started
// with serverArgs in its environment, the test binary runs main instead, as the
// chat program with those arguments (see startProgram).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(serverArgs); ok {
		go func() { // if the test dies, its end of our stdin closes
			io.Copy(io.Discard, os.Stdin)
			os.Exit(3)
		}()
		os.Args = append([]string{"complete"}, strings.Fields(args)...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

var (
	// welcome matches `Welcome NAME (N online)` and captures NAME and N.
	welcome = regexp.MustCompile(`^Welcome ([A-Za-z0-9_-]{1,20}) \((\d+) online\)$`)
	// notice matches `NAME joined (N online)` and `NAME left (N online)`, and
	// what may follow a leave: why the server hung up.
	notice = regexp.MustCompile(`^([A-Za-z0-9_-]{1,20}) (joined|left) \((\d+) online\)(: .*)?$`)
)

// testServer is a server running in the test, on a fresh port of 127.0.0.1.
type testServer struct {
	srv      *Server
	addr     string
	served   chan struct{} // closed when Serve returns
	serveErr error         // what Serve returned; read it after served is closed
}

// startServer runs a server with the command-line flags args until the test ends.
// Every test client comes from 127.0.0.1, so the limit per address is raised,
// unless args set it again.
func startServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	args = append([]string{"-max-per-addr", "1000"}, args...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return serveOn(t, l, args...)
}

// serveOn runs a server with the command-line flags args on l until the test ends.
func serveOn(t *testing.T, l net.Listener, args ...string) *testServer {
	t.Helper()
	cfg, err := parseFlags(args, log.New(testWriter{t}, "", 0), io.Discard)
	require.NoError(t, err)
	ts := &testServer{srv: cfg.srv, addr: l.Addr().String(), served: make(chan struct{})}
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

// testWriter sends the server's log to the test's log: go test -v shows it.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
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

// shutdown calls Shutdown with shutdownBound to spare and fails the test unless it
// returns nil in that time. It returns how long Shutdown took.
func shutdown(t *testing.T, srv *Server) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
	defer cancel()
	sd := shutdownMethod(t, srv)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- sd(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(shutdownBound + wait): // the test's cleanup, Close, ends it
		t.Fatalf("Shutdown had not returned %v after it began, although its context ended after %v", shutdownBound+wait, shutdownBound)
	}
	took := time.Since(start)
	require.NoError(t, err, "Shutdown ran out of its %v: is it waiting for a client that does not read?", shutdownBound)
	t.Logf("Shutdown took %v", took.Round(time.Millisecond))
	return took
}

// user is one chat user on a real socket.
type user struct {
	conn   net.Conn
	r      *bufio.Reader
	name   string // from the welcome line
	online int    // how many the welcome line said were online, this client included
}

// dial connects to addr and reads the welcome line. It returns an error rather
// than failing the test, so that other goroutines may call it.
func dial(addr string) (*user, error) {
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		return nil, err
	}
	c := &user{conn: conn, r: bufio.NewReader(conn)}
	line, err := c.read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("no welcome line: %w", err)
	}
	m := welcome.FindStringSubmatch(line)
	if m == nil {
		conn.Close()
		return nil, fmt.Errorf("first line %q is not `Welcome NAME (N online)`", line)
	}
	c.name = m[1]
	c.online, _ = strconv.Atoi(m[2])
	return c, nil
}

// join connects a client that hangs up when the test ends.
func join(t *testing.T, addr string) *user {
	t.Helper()
	c, err := dial(addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// joinAll connects n clients one after the other; each of those before hears
// each newcomer join, so all are on the server's list when it returns.
func joinAll(t *testing.T, addr string, n int) []*user {
	t.Helper()
	var cs []*user
	for range n {
		c := join(t, addr)
		for _, old := range cs {
			old.expect(t, fmt.Sprintf("%s joined (%d online)", c.name, c.online))
		}
		cs = append(cs, c)
	}
	return cs
}

// read returns the next line without its "\n", waiting wait at most.
func (c *user) read() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	line, err := c.r.ReadString('\n')
	if err == nil {
		line = strings.TrimSuffix(line, "\n")
	}
	return line, err
}

// expect fails the test unless the next line is want.
func (c *user) expect(t *testing.T, want string) {
	t.Helper()
	line, err := c.read()
	require.NoError(t, err, "%s waited for %q", c.name, want)
	require.Equal(t, want, line, "what %s got", c.name)
}

// send sends line with a "\n", as nc does.
func (c *user) send(t *testing.T, line string) {
	t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(wait))
	_, err := io.WriteString(c.conn, line+"\n")
	require.NoError(t, err)
}

// readNotice reads the next line and requires it to be a join or leave notice.
func (c *user) readNotice(t *testing.T) (name, what string, online int) {
	t.Helper()
	line, err := c.read()
	require.NoError(t, err, "%s waited for a notice", c.name)
	m := notice.FindStringSubmatch(line)
	require.NotNil(t, m, "%s got %q; want `NAME joined (N online)` or `NAME left (N online)`", c.name, line)
	online, _ = strconv.Atoi(m[3])
	return m[1], m[2], online
}

// rest reads until the server hangs up and returns every line that came. It
// returns an error if the connection has not ended within d. It does not fail
// the test itself, so other goroutines may call it.
func (c *user) rest(d time.Duration) (lines []string, err error) {
	deadline := time.Now().Add(d)
	for {
		c.conn.SetReadDeadline(deadline)
		line, err := c.r.ReadString('\n')
		if line != "" {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return lines, fmt.Errorf("%s: still connected after %v", c.name, d)
		}
		if err != nil {
			return lines, nil // io.EOF, or a reset: either way the server hung up
		}
	}
}

// last is the last of lines, or "" if there are none.
func last(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
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

// stuckClient joins a client that reads nothing after its welcome. Once its
// kernel buffers are full (some hundreds of KiB), the server's writes to it block.
func stuckClient(t *testing.T, addr string) *user {
	t.Helper()
	return join(t, addr)
}

// flood sends size bytes of chat from c, in lines of lineLen bytes.
func flood(t *testing.T, c *user, size, lineLen int) {
	t.Helper()
	line := strings.Repeat("x", lineLen-1) + "\n"
	c.conn.SetWriteDeadline(time.Now().Add(4 * wait))
	for sent := 0; sent < size; sent += lineLen {
		_, err := io.WriteString(c.conn, line)
		require.NoError(t, err, "the server stopped taking %s's lines", c.name)
	}
}

// spawn runs f in a goroutine that wg waits for (sync.WaitGroup.Go needs Go 1.25).
func spawn(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
}
