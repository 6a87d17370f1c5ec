package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain checks, after all the tests, that no goroutine outlived its test.
func TestMain(m *testing.M) {
	code := m.Run()
	os.RemoveAll(binDir) // the program main_test.go built, if it built one
	if code == 0 {
		if err := goleak.Find(); err != nil {
			log.Printf("leaked goroutines: %v", err)
			code = 1
		}
	}
	os.Exit(code)
}

// wait bounds every wait in these tests: long enough for a busy machine,
// short enough that a broken server fails the test instead of hanging it.
const wait = 5 * time.Second

// testServer is a Server running on a loopback port, with its log kept for asserting.
type testServer struct {
	*Server
	addr   string
	logs   *syncBuffer
	served chan error // receives Serve's result when it returns
	stuck  bool       // Close did not return: the cleanup does not wait for it again
}

// startServer starts a Server on 127.0.0.1:0 and stops it when the test ends.
func startServer(t *testing.T) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs := &syncBuffer{}
	ts := &testServer{Server: NewServer(log.New(logs, "", 0)), addr: l.Addr().String(), logs: logs, served: make(chan error, 1)}
	go func() { ts.served <- ts.Serve(l) }()
	t.Cleanup(func() {
		if ts.stuck || !closeServer(t, ts.Server) {
			return // its goroutines are stuck: Serve may never return
		}
		select {
		case err := <-ts.served:
			require.NoError(t, err)
		case <-time.After(wait):
			t.Error("Serve did not return after Close")
		}
	})
	return ts
}

// closeServer calls s.Close, and fails the test if it does not return in time: a
// goroutine that waits for the hub after it has stopped (a send that does not also
// watch ctx.Done) would otherwise hang the tests for ten minutes instead of failing
// one. It reports whether Close returned. Calling Close a second time is fine.
func closeServer(t *testing.T, s *Server) bool {
	t.Helper()
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
		return true
	case <-time.After(wait):
		t.Errorf("Close did not return in %v: is a goroutine still waiting for the hub, "+
			"or a writer for a channel that nobody closes?", wait)
		return false
	}
}

// peer is one test client: a connection and a line reader. (The server has its
// own type called client.)
type peer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *peer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, wait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn, r: bufio.NewReaderSize(conn, 2*maxLine)} // room for the longest line
}

// send writes raw bytes: the test says which line ending it means.
func (c *peer) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetWriteDeadline(time.Now().Add(wait)))
	_, err := io.WriteString(c.conn, s)
	require.NoError(c.t, err)
}

// readLine returns the next line the server sent, with its newline.
func (c *peer) readLine() string {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	line, err := c.r.ReadString('\n')
	require.NoError(c.t, err, "no line from the server (got %q)", line)
	return line
}

// readEOF checks that the server hung up.
func (c *peer) readEOF() {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	rest, err := io.ReadAll(c.r)
	require.NoError(c.t, err, "the server did not hang up")
	require.Empty(c.t, string(rest))
}

// syncBuffer is a log destination that the server and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog waits until the server's log contains want.
func (ts *testServer) waitLog(t *testing.T, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(ts.logs.String(), want) },
		wait, time.Millisecond, "the log never said %q; it says:\n%s", want, ts.logs)
}

// join connects a client and waits until the server has added it to the chat:
// the server logs "Connected" only after that. When the test ends, the client
// leaves, and the test waits until the server has taken it off the list again
// (it logs "Disconnected" after that), so that clients leave one at a time.
func (ts *testServer) join(t *testing.T) *peer {
	t.Helper()
	c := dial(t, ts.addr)
	ts.waitLog(t, "Connected "+c.name()+"\n")
	t.Cleanup(func() {
		c.conn.Close()
		if !t.Failed() { // after a failure the server may be stuck: do not wait for it
			ts.waitLeft(t, c)
		}
	})
	return c
}

// waitLeft waits until the server has logged that c left, with or without an error.
func (ts *testServer) waitLeft(t *testing.T, c *peer) {
	t.Helper()
	require.Eventually(t, func() bool {
		logs := ts.logs.String()
		return strings.Contains(logs, "Disconnected "+c.name()+"\n") ||
			strings.Contains(logs, "Disconnected "+c.name()+": ")
	}, wait, time.Millisecond, "the log never said that %s left; it says:\n%s", c.name(), ts.logs)
}

// name is how the server names this client in the chat: its address.
func (c *peer) name() string { return c.conn.LocalAddr().String() }

// quiet is how long a test listens for a line that must NOT come.
const quiet = 300 * time.Millisecond

// readNothing checks that no line arrives for a while.
func (c *peer) readNothing() {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(quiet)))
	line, err := c.r.ReadString('\n')
	var netErr net.Error
	require.ErrorAs(c.t, err, &netErr, "unexpected line %q", line)
	require.True(c.t, netErr.Timeout())
}

func TestBroadcastsToTheOthers(t *testing.T) {
	ts := startServer(t)
	a, b, c := ts.join(t), ts.join(t), ts.join(t)
	a.send("hello\n")
	require.Equal(t, a.name()+": hello\n", b.readLine())
	require.Equal(t, a.name()+": hello\n", c.readLine())

	b.send("hi a\n")
	require.Equal(t, b.name()+": hi a\n", a.readLine(), "a's next line is b's: a did not get its own line back")
	require.Equal(t, b.name()+": hi a\n", c.readLine())
}

// Many clients at once: every line reaches every other client.
func TestManyClients(t *testing.T) {
	ts := startServer(t)
	var clients []*peer
	for range 10 {
		clients = append(clients, ts.join(t))
	}
	for i, c := range clients {
		c.send(fmt.Sprintf("line from %d\n", i))
		for j, other := range clients {
			if j != i {
				require.Equal(t, fmt.Sprintf("%s: line from %d\n", c.name(), i), other.readLine())
			}
		}
	}
}

// A client that leaves is taken off the list: its goroutines end (the server logs
// "Disconnected" only after its writer has returned), and the others chat on.
func TestLeavingClientIsRemoved(t *testing.T) {
	ts := startServer(t)
	a, b, c := ts.join(t), ts.join(t), ts.join(t)
	b.conn.Close()
	ts.waitLeft(t, b)
	a.send("still here\n")
	require.Equal(t, a.name()+": still here\n", c.readLine())
}

// telnet ends lines with \r\n, netcat with \n: the others get the same line from both.
func TestTelnetLineEndings(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)
	a.send("from telnet\r\n")
	require.Equal(t, a.name()+": from telnet\n", b.readLine())
	a.send("\r\n")
	require.Equal(t, a.name()+": \n", b.readLine(), "an empty line is passed on as an empty line")
}

func TestLogsConnectedAndDisconnected(t *testing.T) {
	ts := startServer(t)
	c := ts.join(t)
	c.conn.Close()
	ts.waitLeft(t, c)
}

// Bytes that are not text are passed on exactly as they came.
func TestBinaryBytes(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)
	line := "\x00\x01\xff\xfe\x1b[31m\tend"
	a.send(line + "\n")
	require.Equal(t, a.name()+": "+line+"\n", b.readLine())
}

// A line at the limit is passed on; a longer one gets its sender a clear error and
// a goodbye, and the others chat on.
func TestLongLine(t *testing.T) {
	ts := startServer(t)
	a, b, c := ts.join(t), ts.join(t), ts.join(t)
	longest := strings.Repeat("x", maxLine-1)
	a.send(longest + "\n")
	require.Equal(t, a.name()+": "+longest+"\n", b.readLine())
	require.Equal(t, a.name()+": "+longest+"\n", c.readLine())

	go a.conn.Write([]byte(strings.Repeat("y", maxLine+1) + "\n")) // may block: the server stops reading
	require.Equal(t, "error: line too long (the limit is 65536 bytes, newline included); goodbye\n", a.readLine())
	ts.waitLog(t, "token too long")
	b.send("on we go\n")
	require.Equal(t, b.name()+": on we go\n", c.readLine())
	b.readNothing() // and nothing of the long line reached the others
}

// A client that half-closes in the middle of a line: its last words still reach
// the others. Nothing it typed is lost.
func TestLastLineWithoutNewline(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)
	a.send("no newline at the end")
	require.NoError(t, a.conn.(*net.TCPConn).CloseWrite())
	require.Equal(t, a.name()+": no newline at the end\n", b.readLine())
	a.readEOF()
}

// A client that vanishes mid-line, or resets the connection, does not crash the
// server, and the others chat on.
func TestClientVanishes(t *testing.T) {
	for _, reset := range []bool{false, true} {
		ts := startServer(t)
		a, b, c := ts.join(t), ts.join(t), ts.join(t)
		a.send("half a li")
		if reset {
			require.NoError(t, a.conn.(*net.TCPConn).SetLinger(0)) // close with RST, not FIN
		}
		a.conn.Close()
		ts.waitLeft(t, a)
		b.send("still there?\n")
		got := c.readLine()
		if !reset {
			require.Equal(t, a.name()+": half a li\n", got, "a's last words still reach the others")
		}
		if got == a.name()+": half a li\n" { // after a reset, they may or may not
			got = c.readLine()
		}
		require.Equal(t, b.name()+": still there?\n", got)
	}
}

// Close hangs up on every client and makes Serve return.
func TestCloseHangsUp(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)
	ts.stuck = !closeServer(t, ts.Server)
	require.False(t, ts.stuck)
	a.readEOF()
	b.readEOF()
	select {
	case err := <-ts.served:
		require.NoError(t, err)
		ts.served <- err // for the cleanup
	case <-time.After(wait):
		t.Fatal("Serve did not return after Close")
	}
}
