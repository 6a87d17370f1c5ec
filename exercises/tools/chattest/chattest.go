// Package chattest is the plumbing that the tests of stage1..stage5 share: a server
// started on a loopback port with its log kept, test clients that read lines with
// deadlines, the real program built once and run, nc and telnet driven as a
// learner drives them, a check that no goroutine outlives the tests, and the
// benchmarks of the broadcast that stage5 and the slow and hub exercises run.
//
// Only tests import it. Each stage's own program imports nothing of the workbook,
// and the tests that state a stage's lesson stay in that stage: this package holds
// what they all need, so that what is left in a stage's tests is about that stage.
//
//	func TestMain(m *testing.M) { chattest.Main(m) }
//
//	func TestEchoesEachLine(t *testing.T) {
//		ts := chattest.Start(t, NewServer)
//		c := ts.Dial(t)
//		c.Send("hello\n")
//		require.Equal(t, "hello\n", c.ReadLine())
//	}
package chattest

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

// Wait bounds every wait in the tests: long enough for a busy machine, short
// enough that a broken server fails the test instead of hanging it.
const Wait = 5 * time.Second

// Quiet is how long a test listens for a line that must NOT come. Nothing in the
// stages makes a line late on purpose, so a line that has not come by then is a
// line that is not coming.
const Quiet = 300 * time.Millisecond

// Main runs the tests, then removes the program that Program built, and fails the
// run if a goroutine outlived its test. Use it as a package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			log.Printf("leaked goroutines: %v", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Server is what every stage's Server is: started on any listener, stopped by Close.
type Server interface {
	Serve(l net.Listener) error
	Close()
}

// Running is a stage's Server running on a loopback port, with its log kept.
type Running[S Server] struct {
	Server S
	Addr   string      // where it listens: 127.0.0.1 and a free port
	Logs   *SyncBuffer // everything it logged

	served chan struct{} // closed when Serve has returned
	err    error         // what Serve returned
}

// Start starts newServer's server on 127.0.0.1:0, logging to ts.Logs. When the
// test ends it closes the server, and fails the test if Serve did not return
// without an error.
func Start[S Server](t *testing.T, newServer func(*log.Logger) S) *Running[S] {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs := &SyncBuffer{}
	ts := &Running[S]{Server: newServer(log.New(logs, "", 0)), Addr: l.Addr().String(), Logs: logs, served: make(chan struct{})}
	go func() {
		ts.err = ts.Server.Serve(l)
		close(ts.served)
	}()
	t.Cleanup(func() {
		ts.Server.Close()
		select {
		case <-ts.served:
			require.NoError(t, ts.err)
		case <-time.After(Wait):
			t.Error("Serve did not return after Close")
		}
	})
	return ts
}

// Served waits until Serve returns, and returns its error.
func (ts *Running[S]) Served(t *testing.T) error {
	t.Helper()
	select {
	case <-ts.served:
		return ts.err
	case <-time.After(Wait):
		t.Fatal("Serve did not return")
		return nil
	}
}

// Dial connects a new client to the server.
func (ts *Running[S]) Dial(t *testing.T) *Client {
	t.Helper()
	return Dial(t, ts.Addr)
}

// WaitLog waits until the server's log contains want.
func (ts *Running[S]) WaitLog(t *testing.T, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(ts.Logs.String(), want) },
		Wait, time.Millisecond, "the log never said %q; it says:\n%s", want, ts.Logs)
}

// Join connects a client and waits until the server has added it to the chat:
// the server logs "Connected" only after that. When the test ends, the client
// leaves, and the test waits until the server has taken it off the list again
// (it logs "Disconnected" after that), so that clients leave one at a time.
func (ts *Running[S]) Join(t *testing.T) *Client {
	t.Helper()
	c := ts.Dial(t)
	ts.WaitLog(t, "Connected "+c.Name()+"\n")
	t.Cleanup(func() {
		c.Conn.Close()
		ts.WaitLeft(t, c)
	})
	return c
}

// WaitLeft waits until the server has logged that c left, with or without an error.
func (ts *Running[S]) WaitLeft(t *testing.T, c *Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		logs := ts.Logs.String()
		return strings.Contains(logs, "Disconnected "+c.Name()+"\n") ||
			strings.Contains(logs, "Disconnected "+c.Name()+": ")
	}, Wait, time.Millisecond, "the log never said that %s left; it says:\n%s", c.Name(), ts.Logs)
}

// Client is one test client: a connection and a line reader. Every read and
// write has a deadline, so a server that never answers fails the test.
type Client struct {
	t    *testing.T
	Conn net.Conn
	R    *bufio.Reader // reads Conn; read through it, not Conn, or lines get lost
}

// Dial connects a client to addr, and closes it when the test ends.
func Dial(t *testing.T, addr string) *Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, Wait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &Client{t: t, Conn: conn, R: bufio.NewReader(conn)}
}

// Name is how the server names this client: its address.
func (c *Client) Name() string { return c.Conn.LocalAddr().String() }

// Send writes raw bytes: the test says which line ending it means.
func (c *Client) Send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.Conn.SetWriteDeadline(time.Now().Add(Wait)))
	_, err := io.WriteString(c.Conn, s)
	require.NoError(c.t, err)
}

// ReadLine returns the next line the server sent, with its newline.
func (c *Client) ReadLine() string {
	c.t.Helper()
	require.NoError(c.t, c.Conn.SetReadDeadline(time.Now().Add(Wait)))
	line, err := c.R.ReadString('\n')
	require.NoError(c.t, err, "no line from the server (got %q)", line)
	return line
}

// ReadNothing checks that no line arrives for a while (Quiet).
func (c *Client) ReadNothing() {
	c.t.Helper()
	require.NoError(c.t, c.Conn.SetReadDeadline(time.Now().Add(Quiet)))
	line, err := c.R.ReadString('\n')
	var netErr net.Error
	require.ErrorAs(c.t, err, &netErr, "unexpected line %q", line)
	require.True(c.t, netErr.Timeout(), "want a timeout, got %v", err)
}

// ReadEOF checks that the server hung up, with nothing more to say.
func (c *Client) ReadEOF() {
	c.t.Helper()
	require.NoError(c.t, c.Conn.SetReadDeadline(time.Now().Add(Wait)))
	rest, err := io.ReadAll(c.R)
	require.NoError(c.t, err, "the server did not hang up")
	require.Empty(c.t, string(rest))
}

// SyncBuffer is a log destination that a server and a test may use at once.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
