package main

// These tests run the server on a real socket and talk to it the way any client
// would: frames built and taken apart by hand with encoding/binary, not with the
// codec under test, so that a mistake in frame.go cannot hide itself.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain checks, after all the tests, that no goroutine outlived its test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait in these tests: long enough for a busy machine,
// short enough that a broken server fails the test instead of hanging it.
const wait = 5 * time.Second

// testServer is a Server running on a loopback port, with its log kept for asserting.
type testServer struct {
	*Server
	addr string
	logs *syncBuffer
}

// startServer starts a Server on 127.0.0.1:0 and stops it when the test ends.
func startServer(t *testing.T) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs := &syncBuffer{}
	ts := &testServer{Server: NewServer(log.New(logs, "", 0)), addr: l.Addr().String(), logs: logs}
	served := make(chan error, 1)
	go func() { served <- ts.Serve(l) }()
	t.Cleanup(func() {
		ts.Close()
		select {
		case err := <-served:
			require.NoError(t, err)
		case <-time.After(wait):
			t.Error("Serve did not return after Close")
		}
	})
	return ts
}

// client is one test client.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// join connects a client and waits until the server has it on its list (the
// server logs "Connected" once it has), so that it misses no message.
func (ts *testServer) join(t *testing.T) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", ts.addr, wait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	ts.waitLog(t, "Connected "+conn.LocalAddr().String())
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// sendRaw writes bytes exactly as given.
func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetWriteDeadline(time.Now().Add(wait)))
	_, err := c.conn.Write(b)
	require.NoError(c.t, err)
}

// frame returns p with its 4-byte big-endian length in front.
func frame(p []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

// send sends p as one frame.
func (c *client) send(p []byte) {
	c.t.Helper()
	c.sendRaw(frame(p))
}

// read returns the payload of the next frame from the server.
func (c *client) read() []byte {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	var h [4]byte
	_, err := io.ReadFull(c.r, h[:])
	require.NoError(c.t, err, "no frame from the server")
	n := binary.BigEndian.Uint32(h[:])
	require.LessOrEqual(c.t, n, uint32(maxFrame), "the server sent a frame over the limit")
	p := make([]byte, n)
	_, err = io.ReadFull(c.r, p)
	require.NoError(c.t, err, "the server sent a header for %d bytes, then not all of them", n)
	return p
}

// readEOF checks that the server hung up without sending anything more.
func (c *client) readEOF() {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	rest, err := io.ReadAll(c.r)
	require.NoError(c.t, err, "the server did not hang up")
	require.Empty(c.t, rest)
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

// waitLog waits until the server logs a line that is want, or want and ": why".
// (Whole lines: "Connected 127.0.0.1:4000" is inside "Disconnected 127.0.0.1:40001".)
func (ts *testServer) waitLog(t *testing.T, want string) {
	t.Helper()
	logged := func() bool {
		for _, line := range strings.Split(ts.logs.String(), "\n") {
			if line == want || strings.HasPrefix(line, want+": ") {
				return true
			}
		}
		return false
	}
	require.Eventually(t, logged, wait, time.Millisecond, "the log never said %q; it says:\n%s", want, ts.logs)
}

// A message goes, as sent, to every client but its sender.
func TestRelaysToEveryOtherClient(t *testing.T) {
	ts := startServer(t)
	a, b, c := ts.join(t), ts.join(t), ts.join(t)

	a.send([]byte("hello"))
	require.Equal(t, "hello", string(b.read()))
	require.Equal(t, "hello", string(c.read()))

	b.send([]byte("hi a")) // a's next frame is b's: its own "hello" did not come back to it
	require.Equal(t, "hi a", string(a.read()))
	require.Equal(t, "hi a", string(c.read()))
}

// Newlines, NUL bytes, empty messages, a message of exactly the limit: all arrive
// byte for byte, each as one message.
func TestRelaysAnyBytes(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)

	largest := make([]byte, maxFrame)
	for i := range largest {
		largest[i] = byte(i % 253)
	}
	for _, p := range [][]byte{
		[]byte("two\nlines\n"),
		[]byte("telnet\r\n"),
		[]byte("nul\x00inside"),
		{},
		[]byte("\xff\xfe\x00\x00\x00\x05hello"),
		largest,
	} {
		a.send(p)
		got := b.read()
		require.True(t, bytes.Equal(p, got), "sent %d bytes (%.20q...), got %d (%.20q...)", len(p), p, len(got), got)
	}
}

// TCP keeps no message boundaries: two frames may come in one piece, one frame in
// many. The server must find the frames all the same.
func TestFramesInPieces(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)

	a.sendRaw(append(frame([]byte("first")), frame([]byte("second"))...)) // two frames, one Write
	require.Equal(t, "first", string(b.read()))
	require.Equal(t, "second", string(b.read()))

	for _, x := range frame([]byte("byte by byte")) { // one frame, many Writes
		a.sendRaw([]byte{x})
	}
	require.Equal(t, "byte by byte", string(b.read()))
}

// A length over the limit gets a framed error naming the limit, then the server
// hangs up on that client, and only on that one.
func TestRefusesOverLimit(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)

	for _, length := range []uint32{maxFrame + 1, 0xffffffff} {
		x := ts.join(t)
		x.sendRaw(binary.BigEndian.AppendUint32(nil, length))
		refusal := string(x.read())
		require.True(t, strings.HasPrefix(refusal, "error:"), "the refusal %q begins with \"error:\"", refusal)
		require.Contains(t, refusal, fmt.Sprint(maxFrame), "the refusal names the limit")
		x.readEOF()
		ts.waitLog(t, "Disconnected "+x.conn.LocalAddr().String())

		a.send([]byte("still here")) // everybody else is served as before
		require.Equal(t, "still here", string(b.read()))
	}
}

// A client that vanishes in the middle of a frame, quietly or with a reset, is
// dropped, and nobody receives the half message.
func TestClientVanishesMidFrame(t *testing.T) {
	ts := startServer(t)
	a, b := ts.join(t), ts.join(t)

	for _, half := range []string{"\x00\x00", "\x00\x00\x00\x0ahalf a"} {
		for _, reset := range []bool{false, true} {
			x := ts.join(t)
			x.sendRaw([]byte(half))
			if reset {
				require.NoError(t, x.conn.(*net.TCPConn).SetLinger(0)) // close with RST, not FIN
			}
			x.conn.Close()
			ts.waitLog(t, "Disconnected "+x.conn.LocalAddr().String())

			a.send([]byte("next"))
			require.Equal(t, "next", string(b.read()), "b's next message is a's, not a piece of x's")
		}
	}
}
