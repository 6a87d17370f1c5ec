package main

import (
	"bufio"
	"bytes"
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
		ts.Close()
		select {
		case err := <-ts.served:
			require.NoError(t, err)
		case <-time.After(wait):
			t.Error("Serve did not return after Close")
		}
	})
	return ts
}

// client is one test client: a connection and a line reader.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, wait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes raw bytes: the test says which line ending it means.
func (c *client) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetWriteDeadline(time.Now().Add(wait)))
	_, err := io.WriteString(c.conn, s)
	require.NoError(c.t, err)
}

// readLine returns the next line the server sent, with its newline.
func (c *client) readLine() string {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	line, err := c.r.ReadString('\n')
	require.NoError(c.t, err, "no line from the server (got %q)", line)
	return line
}

// readEOF checks that the server hung up.
func (c *client) readEOF() {
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

func TestEchoesEachLine(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	c.send("hello\n")
	require.Equal(t, "hello\n", c.readLine())
	c.send("two\nlines\n")
	require.Equal(t, "two\n", c.readLine())
	require.Equal(t, "lines\n", c.readLine())
}

// Stage2's lesson: when one client leaves, the server serves the next.
func TestServesTheNextClient(t *testing.T) {
	ts := startServer(t)
	for _, text := range []string{"first\n", "second\n", "third\n"} {
		c := dial(t, ts.addr)
		c.send(text)
		require.Equal(t, text, c.readLine())
		c.conn.Close()
	}
}

// telnet ends lines with \r\n, netcat with \n: the echo is the same line for both.
func TestTelnetLineEndings(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	c.send("from telnet\r\n")
	require.Equal(t, "from telnet\n", c.readLine())
	c.send("\r\n")
	require.Equal(t, "\n", c.readLine(), "an empty line is echoed as an empty line")
}

func TestLogsConnectedAndDisconnected(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	c.send("hi\n")
	c.readLine()
	me := c.conn.LocalAddr().String()
	ts.waitLog(t, "Connected "+me)
	c.conn.Close()
	ts.waitLog(t, "Disconnected "+me)
}

// Bytes that are not text come back exactly as they went in.
func TestBinaryBytes(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	line := "\x00\x01\xff\xfe\x1b[31m\tend"
	c.send(line + "\n")
	require.Equal(t, line+"\n", c.readLine())
}

// A line at the limit is echoed; a longer one gets a clear error, then the server hangs up.
func TestLongLine(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	longest := strings.Repeat("x", maxLine-1)
	c.send(longest + "\n")
	require.Equal(t, longest+"\n", c.readLine())

	go c.conn.Write([]byte(strings.Repeat("y", maxLine+1) + "\n")) // may block: the server stops reading
	require.Equal(t, "error: line too long (the limit is 65536 bytes, newline included); goodbye\n", c.readLine())
	ts.waitLog(t, "token too long")
}

// A client that half-closes in the middle of a line still gets that line back:
// nothing it typed is lost.
func TestLastLineWithoutNewline(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	c.send("no newline at the end")
	require.NoError(t, c.conn.(*net.TCPConn).CloseWrite())
	require.Equal(t, "no newline at the end\n", c.readLine())
	c.readEOF()
}

// A client that vanishes mid-line, or resets the connection, does not crash the server.
func TestClientVanishes(t *testing.T) {
	for _, reset := range []bool{false, true} {
		ts := startServer(t)
		c := dial(t, ts.addr)
		c.send("hi\n")
		c.readLine()
		c.send("half a li")
		if reset {
			require.NoError(t, c.conn.(*net.TCPConn).SetLinger(0)) // close with RST, not FIN
		}
		c.conn.Close()
		ts.waitLog(t, "Disconnected "+c.conn.LocalAddr().String())

		next := dial(t, ts.addr) // and the server goes on to serve the next client
		next.send("still there?\n")
		require.Equal(t, "still there?\n", next.readLine())
	}
}

// Close hangs up on the client and makes Serve return.
func TestCloseHangsUp(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts.addr)
	c.send("hi\n")
	c.readLine()
	ts.Close()
	c.readEOF()
	select {
	case err := <-ts.served:
		require.NoError(t, err)
		ts.served <- err // for the cleanup
	case <-time.After(wait):
		t.Fatal("Serve did not return after Close")
	}
}
