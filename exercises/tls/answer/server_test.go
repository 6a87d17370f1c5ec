package main

// These tests run the server behind listenTLS on a real socket, with a
// certificate from writeCert, and connect to it with dialTLS, as the program does.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	ca   string // the cert.pem a client should trust
	logs *syncBuffer
}

// startServer starts a Server behind TLS on host:0, with a new certificate,
// and stops it when the test ends.
func startServer(t *testing.T, host string) *testServer {
	t.Helper()
	dir := newCertDir(t)
	l, err := listenTLS(net.JoinHostPort(host, "0"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	require.NoError(t, err)
	logs := &syncBuffer{}
	ts := &testServer{Server: NewServer(log.New(logs, "", 0)), addr: l.Addr().String(), ca: filepath.Join(dir, "cert.pem"), logs: logs}
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

// join connects a client over TLS and waits until the server has it on its list
// (the server logs "Connected" once it has), so that it misses no message.
func (ts *testServer) join(t *testing.T) *client {
	t.Helper()
	conn, err := dialTLS(ts.addr, ts.ca)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	ts.waitLog(t, "Connected "+conn.LocalAddr().String())
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// plain connects a client that does not speak TLS.
func (ts *testServer) plain(t *testing.T) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", ts.addr, wait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

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

// from is how the server labels what c says: its address, as the server sees it.
func (c *client) from() string { return c.conn.LocalAddr().String() + ": " }

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

// Two clients chat through the server, both ways, over TLS.
func TestChatOverTLS(t *testing.T) {
	ts := startServer(t, "127.0.0.1")
	a, b := ts.join(t), ts.join(t)

	a.send("hello from a\n")
	require.Equal(t, a.from()+"hello from a\n", b.readLine())
	b.send("hello from b\r\n") // telnet's line ending, inside TLS
	require.Equal(t, b.from()+"hello from b\n", a.readLine())
}

// The server speaks TLS 1.3 only: both ends are ours, so there is no reason to
// agree to anything older. A client that offers at most TLS 1.2 is refused in
// the handshake; dialTLS gets 1.3.
func TestServerSpeaksOnlyTLS13(t *testing.T) {
	ts := startServer(t, "127.0.0.1")
	pemBytes, err := os.ReadFile(ts.ca)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pemBytes))

	old := &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS12}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: wait}, "tcp", ts.addr, old)
	if conn != nil {
		v := conn.ConnectionState().Version
		conn.Close()
		t.Fatalf("the server agreed to %s; it must speak TLS 1.3 only (set MinVersion)", tls.VersionName(v))
	}
	require.Error(t, err)

	a := ts.join(t)
	require.Equal(t, "TLS 1.3", tls.VersionName(a.conn.(*tls.Conn).ConnectionState().Version))
}

// A client that trusts another certificate will not talk to this server: the
// server's certificate was not signed by any authority the client knows. The
// server goes on serving the clients that do trust it.
func TestClientRefusesUnknownCertificate(t *testing.T) {
	ts := startServer(t, "127.0.0.1")
	stranger := filepath.Join(newCertDir(t), "cert.pem")

	conn, err := dialTLS(ts.addr, stranger)
	if conn != nil {
		conn.Close()
	}
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown, "dialTLS trusting another certificate connected anyway")

	a, b := ts.join(t), ts.join(t)
	a.send("still here\n")
	require.Equal(t, a.from()+"still here\n", b.readLine())
}

// The certificate names localhost and 127.0.0.1; a server reached by any other
// name is refused, even with the right certificate. (127.0.0.2 is this machine
// too, on Linux, but it is not a name the certificate gives.)
func TestClientChecksTheName(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 here: %v", err)
	}
	probe.Close()
	ts := startServer(t, "127.0.0.2")

	conn, err := dialTLS(ts.addr, ts.ca)
	if conn != nil {
		conn.Close()
	}
	var wrongName x509.HostnameError
	require.ErrorAs(t, err, &wrongName, "dialTLS connected to 127.0.0.2 with a certificate for localhost and 127.0.0.1")
}

// A client that does not speak TLS, nc say, gets a plain-text word and is dropped.
// One that connects and says nothing holds nobody up. TLS clients chat on.
func TestPlainTCPClientIsTurnedAway(t *testing.T) {
	ts := startServer(t, "127.0.0.1")
	silent := ts.plain(t) // first, so that the server meets it before a and b
	a, b := ts.join(t), ts.join(t)

	nc := ts.plain(t)
	nc.send("hello\n")
	require.NoError(t, nc.conn.SetReadDeadline(time.Now().Add(wait)))
	got, err := io.ReadAll(nc.r)
	if !errors.Is(err, syscall.ECONNRESET) { // hanging up with our bytes unread may reset
		require.NoError(t, err, "the server did not hang up on a client that does not speak TLS")
	}
	require.Contains(t, string(got), "TLS", "a plain-text client is told, in plain text, why it is dropped")

	a.send("tls clients still chat\n")
	require.Equal(t, a.from()+"tls clients still chat\n", b.readLine(),
		"b's next line is a's: not nc's hello, and not held up by the silent client")
	silent.conn.Close()
}
