package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the tests if any goroutine is still running once they are done:
// the clients' goroutines, the NATS client's and the embedded NATS server's must all
// end when the chat servers and the broker are closed. No goroutine is excused.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir) // the program the end-to-end tests built
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left over after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// patience is how long a test waits for something that should come at once. It is
// generous: it only matters when something is wrong, and then the test fails.
const patience = 10 * time.Second

// broker is a NATS server inside the test, on a free port.
type broker struct {
	t    testing.TB
	addr string // host:port, kept so that a restart comes back on the same one
	ns   *server.Server
}

// newBroker runs a NATS server until the test ends.
func newBroker(t testing.TB) *broker {
	t.Helper()
	ns, err := startBroker("127.0.0.1:0")
	require.NoError(t, err)
	b := &broker{t: t, addr: ns.Addr().String(), ns: ns}
	t.Cleanup(b.stop)
	return b
}

func (b *broker) url() string { return "nats://" + b.addr }

// stop shuts the broker down and waits until it has.
func (b *broker) stop() {
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
		b.ns = nil
	}
}

// restart stops the broker and starts a new one on the same address: everything
// the old one had in memory, the subscriptions too, is gone.
func (b *broker) restart() {
	b.t.Helper()
	b.stop()
	ns, err := startBroker(b.addr)
	require.NoError(b.t, err)
	b.ns = ns
}

// chatServer is one server of the room, as the test sees it.
type chatServer struct {
	*Server
	name string
	addr string
}

// startServer runs a chat server that joins the room at url as name, until the
// test ends (or until the test closes it).
func startServer(t testing.TB, url, name string) *chatServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var logTo io.Writer = testWriter{t}
	if _, bench := t.(*testing.B); bench {
		logTo = io.Discard // "Connected" a hundred times would only slow it down
	}
	s := NewServer(log.New(logTo, name+": ", 0))
	if err := s.Join(url, name); err != nil {
		l.Close()
		require.NoError(t, err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		require.NoError(t, <-served)
	})
	return &chatServer{Server: s, name: name, addr: l.Addr().String()}
}

// startServers starts n servers, server-a, server-b, ..., in one room.
func startServers(t testing.TB, url string, n int) []*chatServer {
	var ss []*chatServer
	for i := range n {
		ss = append(ss, startServer(t, url, "server-"+string(rune('a'+i))))
	}
	return ss
}

// testWriter sends the server's log to the test's log: go test -v shows it.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// peer is one test client.
type peer struct {
	net.Conn
	r    *bufio.Reader
	name string // how every server names us: ADDR@SERVER
}

// dial connects a client to server s that hangs up when the test ends.
func dial(t testing.TB, s *chatServer) *peer {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &peer{Conn: conn, r: bufio.NewReaderSize(conn, 128<<10), name: conn.LocalAddr().String() + "@" + s.name}
}

// readLine returns the next line p receives, without its "\n".
func (p *peer) readLine() (string, error) {
	if err := p.SetReadDeadline(time.Now().Add(patience)); err != nil {
		return "", err
	}
	line, err := p.r.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// expectLine reads the next line of p and requires it to be want.
func (p *peer) expectLine(t testing.TB, want string) {
	t.Helper()
	line, err := p.readLine()
	require.NoError(t, err, "%s waiting for %q", p.name, want)
	require.Equal(t, want, line, "what %s got", p.name)
}

// say sends one line from p.
func (p *peer) say(t testing.TB, text string) {
	t.Helper()
	_, err := fmt.Fprintf(p, "%s\n", text)
	require.NoError(t, err)
}

// skipUntil reads p's lines until want, skipping those that skip accepts.
func (p *peer) skipUntil(t testing.TB, want string, skip func(line string) bool) {
	t.Helper()
	for {
		line, err := p.readLine()
		require.NoError(t, err, "%s waiting for %q", p.name, want)
		if line == want {
			return
		}
		require.True(t, skip(line), "%s got %q while waiting for %q", p.name, line, want)
	}
}

// dialAll connects perServer clients to each server, in turns (a client of the
// first server, one of the second, ...), and returns once every server has every
// one of its clients on its list. A client is surely on the list once it has heard
// something; so the second client says hello until the first hears it, and then
// each newcomer says hello once, and all those before it must hear that, once.
func dialAll(t testing.TB, servers []*chatServer, perServer int) []*peer {
	t.Helper()
	peers := []*peer{dial(t, servers[0]), dial(t, servers[1%len(servers)])}
	first, second := peers[0], peers[1]
	heard := make(chan error, 1)
	go func() { _, err := first.readLine(); heard <- err }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		second.say(t, "hello")
		select {
		case err := <-heard:
			require.NoError(t, err, "the first client never heard the second")
			waiting = false
		case <-tick.C:
		}
	}
	second.say(t, "hello 1") // more hellos may follow: skip to this one
	first.skipUntil(t, second.name+": hello 1", func(line string) bool { return line == second.name+": hello" })

	for i := 2; i < perServer*len(servers); i++ {
		p := dial(t, servers[i%len(servers)])
		p.say(t, fmt.Sprintf("hello %d", i))
		for _, q := range peers {
			q.skipUntil(t, fmt.Sprintf("%s: hello %d", p.name, i), isHello)
		}
		peers = append(peers, p)
	}
	// A newcomer may still get hellos said before it came: its server had them
	// on their way from NATS while the others heard them already. A fence from
	// each server, after which they must all have come, makes a clean start.
	fence(t, peers, isHello)
	return peers
}

// isHello reports whether line is one of dialAll's hellos.
func isHello(line string) bool {
	_, text, _ := strings.Cut(line, ": ")
	return strings.HasPrefix(text, "hello")
}

// chat has every peer send lines lines as fast as it can while reading, and
// requires each to get every line of every other peer, each sender's in the order
// sent, and nothing else. Then fence proves that no line came twice.
func chat(t testing.TB, peers []*peer, lines int) {
	t.Helper()
	padding := strings.Repeat("-", 60)
	errs := make(chan error, 2*len(peers))
	for _, p := range peers {
		go func() { // write as fast as the server takes it
			w := bufio.NewWriter(p)
			for n := range lines {
				fmt.Fprintf(w, "%d %s\n", n, padding)
			}
			errs <- w.Flush()
		}()
		go func() { // and read at the same time
			errs <- p.expectAll(peers, lines, padding)
		}()
	}
	for range 2 * len(peers) {
		if err := <-errs; err != nil {
			for _, p := range peers {
				p.Close() // stop the other goroutines
			}
			require.NoError(t, err)
		}
	}
	fence(t, peers, nil)
}

// expectAll reads until p has had lines lines from every other peer, checking that
// each sender's lines come in order and that nothing else comes.
func (p *peer) expectAll(peers []*peer, lines int, padding string) error {
	next := map[string]int{} // sender's name: number of its next line
	for _, q := range peers {
		if q != p {
			next[q.name] = 0
		}
	}
	for total := 0; total < lines*len(next); total++ {
		line, err := p.readLine()
		if err != nil {
			return fmt.Errorf("%s after %d lines: %w", p.name, total, err)
		}
		from, text, _ := strings.Cut(line, ": ")
		n, ok := next[from]
		if !ok || text != strconv.Itoa(n)+" "+padding {
			return fmt.Errorf("%s got %q; want line %d of %s (a line twice, or one lost?)", p.name, line, n, from)
		}
		next[from] = n + 1
	}
	return nil
}

// fence proves that nothing more is on its way to anybody: a line twice, say. One
// client of each server in turn says "fence", and every other client's next line
// must be that (or one that skip accepts). NATS keeps the order of what went
// through it: a copy of an earlier line, still on its way, comes before a later
// server's fence.
func fence(t testing.TB, peers []*peer, skip func(line string) bool) {
	t.Helper()
	seen := map[string]bool{} // servers whose client has said fence
	for _, f := range peers {
		_, server, _ := strings.Cut(f.name, "@")
		if seen[server] {
			continue
		}
		seen[server] = true
		f.say(t, "fence")
		for _, p := range peers {
			if p != f && skip == nil {
				p.expectLine(t, f.name+": fence")
			} else if p != f {
				p.skipUntil(t, f.name+": fence", skip)
			}
		}
	}
}

// TestTwoServers and TestThreeServers: clients on every server chat at full speed;
// every line reaches every client of every server once, each sender's in order.
func TestTwoServers(t *testing.T) {
	b := newBroker(t)
	servers := startServers(t, b.url(), 2)
	chat(t, dialAll(t, servers, 2), 300)
}

func TestThreeServers(t *testing.T) {
	b := newBroker(t)
	servers := startServers(t, b.url(), 3)
	chat(t, dialAll(t, servers, 2), 200)
}

// TestServerStopsAlone: a server that stops hangs up on its own clients and on
// nobody else's; the others chat on.
func TestServerStopsAlone(t *testing.T) {
	b := newBroker(t)
	servers := startServers(t, b.url(), 3)
	peers := dialAll(t, servers, 2)
	chat(t, peers, 50)

	servers[1].Close()
	var left []*peer
	for _, p := range peers {
		if !strings.HasSuffix(p.name, "@"+servers[1].name) {
			left = append(left, p)
			continue
		}
		_, err := io.Copy(io.Discard, deadlineReader{p})
		require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "%s is still connected to the stopped server", p.name)
	}
	chat(t, left, 50)
}

// deadlineReader reads from p with a deadline on each read.
type deadlineReader struct{ p *peer }

func (d deadlineReader) Read(b []byte) (int, error) {
	d.p.SetReadDeadline(time.Now().Add(patience))
	return d.p.r.Read(b)
}

// TestBrokerRestart: the NATS server restarts in the middle of a chat. While it is
// down, each server's clients still hear each other; once it is back, the servers
// find it again by themselves and the room is whole again. What was said across
// servers during the outage may be lost (NATS stores nothing), so the test skips
// those lines and asks only that the chat goes on.
func TestBrokerRestart(t *testing.T) {
	b := newBroker(t)
	servers := startServers(t, b.url(), 2)
	peers := dialAll(t, servers, 2) // a1, b1, a2, b2
	a1, b1, a2, b2 := peers[0], peers[1], peers[2], peers[3]
	chat(t, peers, 50)

	b.stop()
	a1.say(t, "alone")
	a2.expectLine(t, a1.name+": alone") // the server itself needs no broker
	b1.say(t, "alone")
	b2.expectLine(t, b1.name+": alone")

	b.restart()
	// Each server finds the new broker on its own time; until both have, and have
	// subscribed again, lines between them are lost. So say ping until heard.
	lost := func(line string) bool {
		_, text, _ := strings.Cut(line, ": ")
		return text == "alone" || text == "ping"
	}
	for _, pair := range [][2]*peer{{a1, b1}, {b1, a1}} {
		from, to := pair[0], pair[1]
		heard := make(chan error, 1)
		go func() {
			for {
				line, err := to.readLine()
				if err != nil || line == from.name+": ping" {
					heard <- err
					return
				}
			}
		}()
		tick := time.NewTicker(20 * time.Millisecond)
		for waiting := true; waiting; {
			from.say(t, "ping")
			select {
			case err := <-heard:
				require.NoError(t, err, "%s never heard %s after the broker restarted", to.name, from.name)
				waiting = false
			case <-tick.C:
			}
		}
		tick.Stop()
	}
	// The pings still on their way: each client skips them up to both readies.
	a1.say(t, "ready")
	b1.say(t, "ready")
	for _, p := range peers {
		want := map[string]bool{a1.name + ": ready": p != a1, b1.name + ": ready": p != b1}
		for want[a1.name+": ready"] || want[b1.name+": ready"] {
			line, err := p.readLine()
			require.NoError(t, err, "%s waiting for the readies", p.name)
			require.True(t, want[line] || lost(line), "%s got %q while waiting for the readies", p.name, line)
			want[line] = false
		}
	}
	chat(t, peers, 50)
}

// TestBrokerStopsUnderTraffic: the broker stops while a client is talking, and
// comes back while it still talks. The clients of its own server hear every line,
// in order, outage or not. The other server's clients hear its lines in order and
// never twice, but not all of them: what was said while either server was cut off
// from the broker, or was in the broker's hands when it stopped, is lost, because
// NATS stores nothing. Once the link is back, the room is whole again.
func TestBrokerStopsUnderTraffic(t *testing.T) {
	b := newBroker(t)
	servers := startServers(t, b.url(), 2)
	peers := dialAll(t, servers, 2) // a1, b1, a2, b2
	a1, b1, a2 := peers[0], peers[1], peers[2]

	// b1 hears a2's numbered lines, in order, each once, until a2 says ping.
	heard := make(chan []int, 1)
	failed := make(chan error, 1)
	go func() {
		var got []int
		for {
			line, err := b1.readLine()
			if err != nil {
				failed <- fmt.Errorf("b1 after %d of a2's lines: %w", len(got), err)
				return
			}
			from, text, _ := strings.Cut(line, ": ")
			if from == a2.name && text == "ping" {
				heard <- got
				return
			}
			n, err := strconv.Atoi(text)
			if from != a2.name || err != nil || (len(got) > 0 && n <= got[len(got)-1]) {
				failed <- fmt.Errorf("b1 got %q after %v: out of order, twice, or not a2's", line, got[max(0, len(got)-3):])
				return
			}
			got = append(got, n)
		}
	}()

	// a2 talks, one line at a time; a1, on the same server, must hear each one.
	const lines, stop, restart = 300, 100, 200
	for n := range lines {
		switch n {
		case stop:
			b.stop()
		case restart:
			b.restart()
		}
		a2.say(t, strconv.Itoa(n))
		a1.expectLine(t, a2.name+": "+strconv.Itoa(n))
	}
	// Once the servers are back on the broker, a ping reaches b1.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		a2.say(t, "ping")
		select {
		case got := <-heard:
			t.Logf("b1 heard %d of a2's %d lines; the others were lost while the broker was away", len(got), lines)
			// a1 has not read the pings, nor b2 anything of a2's: skip those.
			fence(t, peers, func(line string) bool { return strings.HasPrefix(line, a2.name+": ") })
			chat(t, peers, 50)
			return
		case err := <-failed:
			require.NoError(t, err)
		case <-tick.C:
		}
	}
}

// TestStrangersIgnored: anybody who can reach the broker can publish on the room's
// subject, and not only whole lines of chat. A server passes on one line at a time,
// as its own clients could have sent it, and nothing else: what is not one line
// (none, several, or a line longer than any client may send) is dropped.
func TestStrangersIgnored(t *testing.T) {
	b := newBroker(t)
	servers := startServers(t, b.url(), 1)
	peers := dialAll(t, servers, 2)

	closed := make(chan struct{})
	stranger, err := nats.Connect(b.url(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	require.NoError(t, err)
	defer func() { stranger.Close(); <-closed }() // nothing of it outlives the test: goleak
	for _, bad := range []string{
		"",                                    // nothing at all
		"no newline",                          // a client's line always ends with one
		"one\ntwo\n",                          // two lines in one message
		"\n\n",                                // two empty lines
		strings.Repeat("x", 2*maxLine) + "\n", // twice as long as a client may send
	} {
		require.NoError(t, stranger.Publish(subject, []byte(bad)))
	}
	// NATS keeps one publisher's order: when this line arrives, every one
	// before it has been dealt with, so it must be the next line each client gets.
	require.NoError(t, stranger.Publish(subject, []byte("stranger@outside: a real line\n")))
	require.NoError(t, stranger.Flush())
	for _, p := range peers {
		p.expectLine(t, "stranger@outside: a real line")
	}
}

// TestStalledLinkKeepsLocalChat: the link to NATS stops taking bytes (the broker
// is overloaded, or the network is), and one client talks on until its server can
// publish no more. That client waits: it feels the back-pressure. But the server's
// other clients must still hear each other: nothing that waits for NATS may hold
// the lock that every client needs.
func TestStalledLinkKeepsLocalChat(t *testing.T) {
	b := newBroker(t)
	p := newProxy(t, b.addr)
	servers := []*chatServer{startServer(t, "nats://"+p.addr(), "server-a")}
	peers := dialAll(t, servers, 3)
	talker, a2, a3 := peers[0], peers[1], peers[2]

	p.pause()
	t.Cleanup(p.resume) // runs before the servers close, which needs the link

	// a3 reads everything, and must hear a2 once the talker is stuck.
	heard := make(chan error, 1)
	go func() {
		for {
			line, err := a3.readLine()
			switch {
			case err != nil:
				heard <- fmt.Errorf("a3 heard nothing more: is the lock held while publishing? %w", err)
				return
			case line == a2.name+": still here":
				heard <- nil
				return
			case !strings.HasPrefix(line, talker.name+": "):
				heard <- fmt.Errorf("a3 got %.80q", line)
				return
			}
		}
	}()
	go io.Copy(io.Discard, a2.Conn) // a2 only talks; it ends when the test hangs up

	// The talker writes until its server has not read from it for a whole
	// second: the server is stuck in Publish, waiting for the link.
	line := []byte(strings.Repeat("z", maxLine-1) + "\n")
	sent := 0
	for {
		talker.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := talker.Write(line)
		sent += n
		if err != nil {
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			break
		}
	}
	t.Logf("the talker waits after %d MiB: its server no longer reads from it", sent>>20)
	a2.say(t, "still here")
	require.NoError(t, <-heard)
}

// proxy passes TCP connections on to a target, and can stop passing on what
// its clients send, as a congested network or an overloaded broker would.
type proxy struct {
	l      net.Listener
	target string
	quit   chan struct{} // closed when the test ends
	wg     sync.WaitGroup

	mu    sync.Mutex
	open  chan struct{} // closed while bytes flow; a new one while paused
	conns []net.Conn
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{l: l, target: target, quit: make(chan struct{}), open: make(chan struct{})}
	close(p.open)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		close(p.quit)
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = make(chan struct{})
}

func (p *proxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
}

func (p *proxy) gate() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, t)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.pass(t, c, true) }()
		go func() { defer p.wg.Done(); p.pass(c, t, false) }()
	}
}

// pass copies from src to dst; when gated, only while the proxy is not paused.
func (p *proxy) pass(dst, src net.Conn, gated bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		if gated {
			select {
			case <-p.gate():
			case <-p.quit:
				return
			}
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
