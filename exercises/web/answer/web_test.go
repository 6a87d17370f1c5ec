package main

// The tests of the web page, in the process: a Go WebSocket client stands for the
// browser. browser_test.go drives a real one.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// webWait bounds every wait of these tests: nothing takes that long when the
// server works.
const webWait = 5 * time.Second

// webServer is a server with its TCP port and its web page, on 127.0.0.1.
type webServer struct {
	srv  *Server
	tcp  string // host:port of the chat over TCP
	web  string // host:port of the page
	logs *lockedBuffer
}

// startWeb runs a server until the test ends, with limits set by tweak (which may
// be nil). The HTTP listener gives its connections small kernel buffers, so that a
// WebSocket client that does not read holds up the server's writes after some
// kilobytes rather than some megabytes.
func startWeb(t *testing.T, tweak func(*Server)) *webServer {
	t.Helper()
	return startWebCapped(t, tweak, 100)
}

// startWebCapped is startWeb with at most maxPageConns HTTP connections at once.
func startWebCapped(t *testing.T, tweak func(*Server), maxPageConns int) *webServer {
	t.Helper()
	before := goleak.IgnoreCurrent() // what runs now is not the server's
	logs := &lockedBuffer{}
	srv := NewServer(log.New(logs, "", 0))
	srv.MaxPerAddr = 1000 // every test client comes from 127.0.0.1
	if tweak != nil {
		tweak(srv)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ws := &webServer{srv: srv, tcp: tl.Addr().String(), web: hl.Addr().String(), logs: logs}
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(tl) }()
	go func() { errs <- srv.ServeWeb(smallSendBuffers{hl}, maxPageConns) }()
	t.Cleanup(func() {
		srv.Close() // after a Shutdown this finds nothing left to do
		for range 2 {
			select {
			case err := <-errs:
				assert.NoError(t, err, "Serve and ServeWeb must return nil when the server is stopped")
			case <-time.After(webWait):
				t.Error("Serve or ServeWeb did not return after Close")
			}
		}
		if t.Failed() {
			t.Logf("the server's log:\n%s", logs)
		}
		// The clients of the test are gone (their cleanups ran first): no goroutine
		// the server started may outlive it, for TCP clients or browsers.
		goleak.VerifyNone(t, before)
	})
	return ws
}

// lockedBuffer is the server's log, which the test reads while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// tcpUser is a client like nc.
type tcpUser struct {
	conn net.Conn
	r    *bufio.Reader
}

func joinTCP(t *testing.T, addr string) *tcpUser {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, webWait)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &tcpUser{conn: conn, r: bufio.NewReader(conn)}
}

// line reads the next line, without its "\n".
func (u *tcpUser) line(t *testing.T) string {
	t.Helper()
	u.conn.SetReadDeadline(time.Now().Add(webWait))
	s, err := u.r.ReadString('\n')
	require.NoError(t, err, "reading a line over TCP")
	return strings.TrimSuffix(s, "\n")
}

func (u *tcpUser) send(t *testing.T, line string) {
	t.Helper()
	u.conn.SetWriteDeadline(time.Now().Add(webWait))
	_, err := io.WriteString(u.conn, line)
	require.NoError(t, err)
}

// wsUser is a WebSocket client, as the page is.
type wsUser struct {
	ws      *websocket.Conn
	pending []string // lines of the last message not read yet
}

// dialWS opens a WebSocket to the page's /chat with header (nil for none).
func dialWS(t *testing.T, web string, header http.Header) (*wsUser, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	ws, resp, err := websocket.Dial(ctx, "ws://"+web+"/chat", &websocket.DialOptions{HTTPHeader: header, HTTPClient: client})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(1 << 20) // one message may carry many lines
	t.Cleanup(func() { ws.CloseNow() })
	return &wsUser{ws: ws}, resp, nil
}

func joinWS(t *testing.T, web string) *wsUser {
	t.Helper()
	u, _, err := dialWS(t, web, nil)
	require.NoError(t, err)
	return u
}

// line reads the next line. A message holds one or more lines, each ending in "\n".
func (u *wsUser) line(t *testing.T) string {
	t.Helper()
	s, err := u.next()
	require.NoError(t, err, "reading a line over the WebSocket")
	return s
}

func (u *wsUser) next() (string, error) {
	for len(u.pending) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), webWait)
		typ, data, err := u.ws.Read(ctx)
		cancel()
		if err != nil {
			return "", err
		}
		if typ != websocket.MessageText || len(data) == 0 || data[len(data)-1] != '\n' {
			return "", io.ErrUnexpectedEOF // not whole lines of text
		}
		u.pending = strings.SplitAfter(string(data[:len(data)-1]), "\n")
		for i := range u.pending {
			u.pending[i] = strings.TrimSuffix(u.pending[i], "\n")
		}
	}
	s := u.pending[0]
	u.pending = u.pending[1:]
	return s, nil
}

func (u *wsUser) send(t *testing.T, line string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	require.NoError(t, u.ws.Write(ctx, websocket.MessageText, []byte(line)))
}

// The page is served, with the headers that keep strangers' text from running.
func TestPageIsServed(t *testing.T) {
	ws := startWeb(t, nil)
	client := &http.Client{Timeout: webWait, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for path, want := range map[string]string{
		"/":         `<script src="chat.js"`,
		"/chat.js":  "new WebSocket(",
		"/chat.css": "#log",
	} {
		resp, err := client.Get("http://" + ws.web + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(body), want, path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
	}
	resp, err := client.Get("http://" + ws.web + "/web.go")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "only the page's three files are served")
}

// A browser and an nc user are in one room: names, presence, and lines both ways.
func TestBrowserAndTCPChat(t *testing.T) {
	ws := startWeb(t, nil)
	b := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest1 (1 online)", b.line(t))
	n := joinTCP(t, ws.tcp)
	require.Equal(t, "Welcome guest2 (2 online)", n.line(t))
	require.Equal(t, "guest2 joined (2 online)", b.line(t))

	b.send(t, "/name alice\n")
	require.Equal(t, "You are now alice", b.line(t))
	require.Equal(t, "guest1 is now alice", n.line(t))

	b.send(t, "hello from the browser\n")
	require.Equal(t, "alice: hello from the browser", n.line(t))
	n.send(t, "hello from nc\n")
	require.Equal(t, "guest2: hello from nc", b.line(t))
	n.send(t, "and from telnet\r\n")
	require.Equal(t, "guest2: and from telnet", b.line(t))
	b.send(t, "two lines\nin one message\n") // what a hand-made client may send
	require.Equal(t, "alice: two lines", n.line(t))
	require.Equal(t, "alice: in one message", n.line(t))

	// A second browser: both browsers and nc hear each other.
	b2 := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest3 (3 online)", b2.line(t))
	require.Equal(t, "guest3 joined (3 online)", b.line(t))
	require.Equal(t, "guest3 joined (3 online)", n.line(t))
	b2.send(t, "\x1b[2Jhi\n")
	require.Equal(t, "guest3: \u241b[2Jhi", b.line(t), "browsers' lines are cleaned like everyone's")
	require.Equal(t, "guest3: \u241b[2Jhi", n.line(t))

	b.send(t, "/quit\n")
	require.Equal(t, "Goodbye alice", b.line(t))
	require.Equal(t, "alice left (2 online)", n.line(t))
	require.Equal(t, "alice left (2 online)", b2.line(t))
}

// The limits hold for browsers as for TCP clients: line length, whatever the size
// of the message; the number of clients; silence.
func TestBrowsersHaveTheSameLimits(t *testing.T) {
	ws := startWeb(t, func(s *Server) { s.MaxLine = 100; s.MaxClients = 3 })
	b := joinWS(t, ws.web)
	b.line(t)
	n := joinTCP(t, ws.tcp)
	n.line(t)
	b.line(t) // guest2 joined

	b.send(t, strings.Repeat("a", 100)+"\n")
	require.Equal(t, "guest1: "+strings.Repeat("a", 100), n.line(t), "a line of exactly -max-line bytes passes")
	for _, size := range []int{101, 6000, 300 << 10} {
		b.send(t, strings.Repeat("b", size)+"\n")
		require.Equal(t, "error: line too long (the limit is 100 bytes); ignored", b.line(t), "a message of %d bytes", size)
		b.send(t, "still here\n")
		require.Equal(t, "guest1: still here", n.line(t), "the long message was not passed on, and the browser stays")
	}

	b2 := joinWS(t, ws.web)
	b2.line(t)
	require.Equal(t, "guest3 joined (3 online)", n.line(t))
	b3 := joinWS(t, ws.web)
	require.Equal(t, "error: server full (3 clients); try again later", b3.line(t), "the fourth client is refused")
	_, err := b3.next()
	require.Error(t, err, "and hung up on")

	b2.ws.Close(websocket.StatusGoingAway, "tab closed")
	require.Equal(t, "guest3 left (2 online)", n.line(t), "a closed tab leaves like a hung-up nc")
}

// The limit per address counts a browser at its own address, with the nc users
// from there: the WebSocket must not hide where it comes from.
func TestBrowsersCountPerAddress(t *testing.T) {
	ws := startWeb(t, func(s *Server) { s.MaxPerAddr = 2 })
	b := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest1 (1 online)", b.line(t))
	n := joinTCP(t, ws.tcp)
	require.Equal(t, "Welcome guest2 (2 online)", n.line(t))
	full := "error: too many connections from 127.0.0.1 (the limit is 2)"
	require.Equal(t, full, joinWS(t, ws.web).line(t), "a browser beyond the limit")
	require.Equal(t, full, joinTCP(t, ws.tcp).line(t), "an nc user beyond the limit, counting the browser")
	require.Regexp(t, `Connected 127\.0\.0\.1:\d+ as guest1`, ws.logs.String(), "the log names the browser's address")
}

// A browser that sends nothing is hung up on after -idle, like a TCP client.
func TestSilentBrowserIsHungUpOn(t *testing.T) {
	ws := startWeb(t, func(s *Server) { s.IdleTimeout = 300 * time.Millisecond })
	b := joinWS(t, ws.web)
	b.line(t)
	_, err := b.next()
	for err == nil {
		_, err = b.next()
	}
	require.Eventually(t, func() bool { return strings.Contains(ws.logs.String(), ": idle for 300ms") },
		webWait, 10*time.Millisecond, "the log must say why, as for TCP clients")
}

// A browser keeps its connection open after it has the page, for the next
// request. One that then says nothing for -idle is hung up on, as a silent nc is:
// else a flood of such connections would hold the server's descriptors forever.
func TestSilentPageConnectionIsClosed(t *testing.T) {
	ws := startWeb(t, func(s *Server) { s.IdleTimeout = 300 * time.Millisecond })
	conn, err := net.DialTimeout("tcp", ws.web, webWait)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(webWait))
	_, err = io.WriteString(conn, "GET /chat.css HTTP/1.1\r\nHost: "+ws.web+"\r\n\r\n")
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.False(t, resp.Close, "the server keeps the connection open for the next request")
	_, err = r.ReadByte()
	require.ErrorIs(t, err, io.EOF, "and closes it once it has been silent for -idle")
}

// A browser tab that stops reading (a phone that went into a tunnel) must not hold
// up anybody: the others' chat goes on, and the server drops it once it is
// -max-queue behind, as it drops any slow client, before it costs more memory.
// The write timeout is long here: only the queue can catch it in time.
func TestStalledBrowserDoesNotStallTheRoom(t *testing.T) {
	ws := startWeb(t, func(s *Server) {
		s.MaxLine = 1000
		s.MaxQueue = 256 << 10
		s.WriteTimeout = time.Minute
	})
	// The stalled browser reads nothing, with a small kernel buffer of its own.
	dialer := &net.Dialer{Timeout: webWait}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(8 << 10)
		}
		return c, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+ws.web+"/chat", &websocket.DialOptions{HTTPClient: &http.Client{Transport: transport}})
	require.NoError(t, err)
	defer conn.CloseNow()
	transport.CloseIdleConnections()
	stalled := &wsUser{ws: conn}
	require.Equal(t, "Welcome guest1 (1 online)", stalled.line(t), "and after this line, it reads nothing")

	a := joinTCP(t, ws.tcp)
	require.Equal(t, "Welcome guest2 (2 online)", a.line(t))
	b := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest3 (3 online)", b.line(t))
	require.Equal(t, "guest3 joined (3 online)", a.line(t))

	// a sends in rounds of 8 KiB, and b reads each round before the next: b is
	// never far behind, while guest1 falls further behind each round. By 2 MiB,
	// eight times -max-queue, guest1 must have been dropped. And all along, what
	// is sent to guest1 waits in the log, nowhere else: a server that writes to
	// it in a goroutine for each message, so as never to wait, starts one more
	// goroutine each round (measured: the answer has 0 or 1 more than at the
	// start, such a server 250 by the end).
	const size, perRound, rounds = 512, 16, 256
	line := strings.Repeat("x", size-1) + "\n"
	dropped := ""
	goroutines := runtime.NumGoroutine()
	for round := 0; round < rounds && dropped == ""; round++ {
		require.LessOrEqual(t, runtime.NumGoroutine(), goroutines+16,
			"round %d: the writes to a browser that does not read must not pile up in goroutines", round)
		a.send(t, strings.Repeat(line, perRound))
		for got := 0; got < perRound; {
			s, err := b.next()
			require.NoError(t, err, "round %d: the room must not stall", round)
			switch {
			case strings.HasPrefix(s, "guest2: x"):
				got++
			case strings.HasPrefix(s, "guest1 left"):
				dropped = s
			default:
				t.Fatalf("unexpected line %q", s)
			}
		}
	}
	require.NotEmpty(t, dropped, "a browser that reads nothing must be dropped once it is -max-queue behind")
	assert.Regexp(t, `^guest1 left \(2 online\): not reading: \d+ KiB behind$`, dropped)
}

// Only the page the server served may open a WebSocket with the user's browser:
// another site's page, which the user happens to have open, gets 403.
func TestForeignOriginIsRefused(t *testing.T) {
	ws := startWeb(t, nil)
	for _, origin := range []string{"http://evil.example", "http://" + ws.web + ".evil.example", "null"} {
		_, resp, err := dialWS(t, ws.web, http.Header{"Origin": {origin}})
		require.Error(t, err, "Origin %s must be refused", origin)
		require.NotNil(t, resp, "Origin %s: the server must answer", origin)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "Origin %s", origin)
	}
	b, _, err := dialWS(t, ws.web, http.Header{"Origin": {"http://" + ws.web}})
	require.NoError(t, err, "the page's own origin is welcome")
	require.Equal(t, "Welcome guest1 (1 online)", b.line(t), "and nobody refused joined")
}

// Shutdown tells the browsers too, and stops the web server.
func TestShutdownTellsBrowsers(t *testing.T) {
	ws := startWeb(t, nil)
	b := joinWS(t, ws.web)
	b.line(t)
	n := joinTCP(t, ws.tcp)
	n.line(t)
	b.line(t)
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	require.NoError(t, ws.srv.Shutdown(ctx))
	require.Equal(t, strings.TrimSuffix(shutdownNotice, "\n"), b.line(t))
	require.Equal(t, strings.TrimSuffix(shutdownNotice, "\n"), n.line(t))
	_, err := b.next()
	require.Error(t, err, "the server hangs up after the notice")
	_, _, err = dialWS(t, ws.web, nil)
	require.Error(t, err, "no newcomers after Shutdown")
}

// The page port holds at most -max-page-conns HTTP connections at once. A flood of
// connections that say nothing fills it, and each one more is answered 503 and
// hung up on at once: it holds no descriptor and no goroutine of the server while
// the flood lasts (without the cap, it would hold both for ReadHeaderTimeout, ten
// seconds, longer than webWait). Meanwhile the browser and the nc user already in
// keep chatting, nc users can still join, and once the flood is gone the page
// loads again. A WebSocket, once open, is a chat client, counted by -max-clients:
// it holds no page slot, so the flood gets every one of them.
func TestPageFloodIsCapped(t *testing.T) {
	const maxConns, over = 8, 40
	ws := startWebCapped(t, nil, maxConns)
	b := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest1 (1 online)", b.line(t))
	n := joinTCP(t, ws.tcp)
	require.Equal(t, "Welcome guest2 (2 online)", n.line(t))
	require.Equal(t, "guest2 joined (2 online)", b.line(t))

	// The flood: connections that send nothing. The server accepts them in the
	// order they came, so the first maxConns get the slots.
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", ws.web, webWait)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(webWait))
		return c
	}
	var held, refused []net.Conn
	for range maxConns {
		held = append(held, dial())
	}
	for range over {
		refused = append(refused, dial())
	}
	for i, c := range refused {
		answer, err := io.ReadAll(c) // to the end: the server has hung up
		require.NoError(t, err, "connection %d over the limit must be answered and closed at once", i+1)
		require.True(t, strings.HasPrefix(string(answer), "HTTP/1.1 503 Service Unavailable\r\n"), "got %q", answer)
		require.True(t, strings.HasSuffix(string(answer),
			"\r\n\r\nerror: too many connections to the web page (the limit is 8); try again later\n"), "got %q", answer)
		c.Close()
	}

	// While the flood holds every slot, the room goes on, and the chat port takes newcomers.
	b.send(t, "still here\n")
	require.Equal(t, "guest1: still here", n.line(t))
	n.send(t, "me too\n")
	require.Equal(t, "guest2: me too", b.line(t))
	n2 := joinTCP(t, ws.tcp)
	require.Equal(t, "Welcome guest3 (3 online)", n2.line(t), "the chat port must keep accepting")
	require.Equal(t, "guest3 joined (3 online)", b.line(t))
	require.Equal(t, "guest3 joined (3 online)", n.line(t))
	// A page load now is told why it is refused. (By hand, as a browser does it:
	// the request first, then the answer. Go's http.Client watches its connection
	// before it has written the request, and takes an answer that comes that
	// early for a broken connection.)
	c := dial()
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+ws.web+"\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a page load during the flood")
	require.Contains(t, string(body), "too many connections", "is told why")
	require.Contains(t, ws.logs.String(), "Refused a page connection from 127.0.0.1:", "and so is the log")

	// The connections that were let in are served: each gets the page's style.
	for i, c := range held {
		_, err := io.WriteString(c, "GET /chat.css HTTP/1.1\r\nHost: "+ws.web+"\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err, "connection %d within the limit", i+1)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "connection %d within the limit must be served", i+1)
	}

	// The flood goes away: the page loads again, and a browser joins.
	for _, c := range held {
		c.Close()
	}
	client := &http.Client{Timeout: webWait, Transport: &http.Transport{DisableKeepAlives: true}}
	require.Eventually(t, func() bool {
		resp, err := client.Get("http://" + ws.web + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, webWait, 10*time.Millisecond, "once the flood is gone, the page must load again")
	b2 := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest4 (4 online)", b2.line(t))
	require.Equal(t, "guest4 joined (4 online)", n.line(t))
}

// A message is a line, and it is read as a stream, never whole: a browser that
// sends one message of 32 MiB costs the server about -max-line bytes while it
// comes in, as a line of 32 MiB over TCP does. The test streams the message in
// frames of 32 KiB (a WebSocket message may come in any number of frames), so it
// never holds it whole either. The sender is told its line is too long, and the
// room goes on.
func TestHugeMessageIsStreamed(t *testing.T) {
	ws := startWeb(t, func(s *Server) { s.MaxLine = 100 })
	b := joinWS(t, ws.web)
	require.Equal(t, "Welcome guest1 (1 online)", b.line(t))
	n := joinTCP(t, ws.tcp)
	require.Equal(t, "Welcome guest2 (2 online)", n.line(t))
	require.Equal(t, "guest2 joined (2 online)", b.line(t))

	const size = 32 << 20
	frame := bytes.Repeat([]byte("b"), 32<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 6*webWait)
	defer cancel()
	var before, during, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, err := b.ws.Writer(ctx, websocket.MessageText)
	require.NoError(t, err)
	for sent := 0; sent < size; sent += len(frame) {
		_, err := w.Write(frame)
		require.NoError(t, err, "the server must keep reading")
	}
	// All the message but its end is sent, and the server has read all of it
	// but what is still in the kernel's buffers. Right after a collection,
	// HeapAlloc is what the process still holds. The answer holds about as much
	// as before (from 0.2 MiB less to 0.5 MiB more, measured); 8 MiB leaves room
	// for anything the runtime keeps, and is far below what a server that keeps
	// the message until its end holds: all it has read, and room to grow.
	runtime.GC()
	runtime.ReadMemStats(&during)
	_, err = w.Write([]byte("\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Equal(t, "error: line too long (the limit is 100 bytes); ignored", b.line(t))
	runtime.ReadMemStats(&after)
	held := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("a message of %d MiB: the process held %d KiB more in the middle of it, and allocated %d KiB in all",
		size>>20, held>>10, allocated>>10)
	assert.Less(t, held, int64(8<<20), "the server must not keep the message while it comes in")
	// What was allocated in all is mostly garbage: coder/websocket allocates
	// about 220 bytes for each read (a context.AfterFunc for its deadline), and
	// the server reads 512 bytes at a time, so the total comes to 43% of the
	// message (measured). A server that reads the message whole allocates all
	// of it at least once, and more as its buffer grows.
	assert.Less(t, allocated, int64(size), "the server must not allocate the message")

	b.send(t, "still here\n")
	require.Equal(t, "guest1: still here", n.line(t), "the browser stays, and the huge line was not passed on")
	n.send(t, "welcome back\n")
	require.Equal(t, "guest2: welcome back", b.line(t))
}

// -max-page-conns is checked like the other limits.
func TestMaxPageConnsFlag(t *testing.T) {
	cfg, err := parseFlags(nil, log.New(io.Discard, "", 0), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 1000, cfg.maxPageConns, "the default")
	cfg, err = parseFlags([]string{"-max-page-conns", "3"}, log.New(io.Discard, "", 0), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.maxPageConns)
	_, err = parseFlags([]string{"-max-page-conns", "0"}, log.New(io.Discard, "", 0), io.Discard)
	require.EqualError(t, err, "-max-page-conns must be at least 1")
}
