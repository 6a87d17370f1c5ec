package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// serverArgs is set when a test runs this very binary as the chat server; see startMain.
const serverArgs = "CHATBOOK_SERVER_ARGS"

// TestMain runs the tests and then fails if any goroutine is still running.
//
// Some tests need the server with limits set by flags, so they run it as a
// program: this test binary, which has your main in it. Started with serverArgs
// in its environment, it runs main with those arguments instead of the tests.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(serverArgs); ok {
		go func() { // the test is over when it closes our stdin (or dies)
			io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
		os.Args = append([]string{"chat"}, strings.Fields(args)...)
		flag.CommandLine = flag.NewFlagSet("chat", flag.ExitOnError) // without the test's flags
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// patience is how long a test waits for something that should come at once. It is
// generous: it only matters when something is wrong, and then the test fails.
const patience = 10 * time.Second

// startMain runs the chat server as a program with the command-line flags args,
// until the test ends, and returns the address it listens on (it reads that in
// the "listening on ADDR" line of the server's log).
func startMain(t *testing.T, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	cmd.Env = append(os.Environ(), serverArgs+"="+strings.Join(args, " "))
	_, err = cmd.StdinPipe() // if the test dies, the server sees its stdin close
	require.NoError(t, err)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var mu sync.Mutex
	var logged strings.Builder // the server's log
	addrs := make(chan string, 1)
	done := make(chan struct{}) // closed when the server's log ends: it has exited
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintln(&logged, sc.Text())
			mu.Unlock()
			if _, addr, ok := strings.Cut(sc.Text(), "listening on "); ok {
				addrs <- addr
			}
		}
	}()
	serverLog := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logged.String()
	}
	t.Cleanup(func() {
		cmd.Process.Kill() // at once: a race-detector binary would wait a second on exit
		<-done
		cmd.Wait()
		if strings.Contains(serverLog(), "DATA RACE") {
			t.Error("the server has a data race")
		}
		if t.Failed() {
			t.Logf("the server's log:\n%s", serverLog())
		}
	})

	select {
	case addr := <-addrs:
		return addr
	case <-done:
		t.Fatal("the server ended before it listened")
	case <-time.After(patience):
		t.Fatalf("the server did not log %q in time", "listening on ADDR")
	}
	return ""
}

// peer is one test client.
type peer struct {
	net.Conn
	lines <-chan string // what it receives, line by line; closed at the end
	name  string        // how the server names us: our address as it sees it
}

// dial connects a client that hangs up when the test ends. A goroutine reads
// what it receives into its lines channel.
func dial(t *testing.T, addr string) *peer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	over := make(chan struct{}) // closed when the test ends
	t.Cleanup(func() {
		close(over)
		conn.Close()
	})
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-over: // nobody will read it
				return
			}
		}
	}()
	return &peer{Conn: conn, lines: lines, name: conn.LocalAddr().String()}
}

// say sends one line from p.
func (p *peer) say(t *testing.T, line string) {
	t.Helper()
	_, err := fmt.Fprintf(p, "%s\n", line)
	require.NoError(t, err)
}

// next returns the next line p receives; ok is false if the server hung up.
func (p *peer) next(t *testing.T) (line string, ok bool) {
	t.Helper()
	select {
	case line, ok = <-p.lines:
		return line, ok
	case <-time.After(patience):
		t.Fatalf("%s got nothing in %v", p.name, patience)
		return "", false
	}
}

// expect requires the next line p receives to be want.
func (p *peer) expect(t *testing.T, want string) {
	t.Helper()
	line, ok := p.next(t)
	require.True(t, ok, "%s was hung up on while waiting for %q", p.name, want)
	require.Equal(t, want, line, "what %s got", p.name)
}

// dialAll connects n clients and returns once the server has all of them on its
// list. A client is surely on the list once a line it sends reaches the others;
// so each new client says hello, and all those before it must hear that.
func dialAll(t *testing.T, addr string, n int) []*peer {
	t.Helper()
	peers := []*peer{dial(t, addr), dial(t, addr)}

	// The first one has nobody to hear it yet, and it may still be joining when
	// the second one speaks; so the second says hello until the first hears it.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(patience)
	for heard := false; !heard; {
		peers[1].say(t, "hello")
		select {
		case line := <-peers[0].lines:
			require.Equal(t, peers[1].name+": hello", line)
			heard = true
		case <-tick.C:
		case <-timeout:
			t.Fatal("the first client never heard the second")
		}
	}
	peers[1].say(t, "hello 1") // more hellos may follow: skip to this one
	for line := ""; line != peers[1].name+": hello 1"; {
		line, _ = peers[0].next(t)
	}

	for i := 2; i < n; i++ {
		p := dial(t, addr)
		p.say(t, fmt.Sprintf("hello %d", i))
		for _, q := range peers {
			q.expect(t, fmt.Sprintf("%s: hello %d", p.name, i))
		}
		peers = append(peers, p)
	}
	return peers
}

// TestLongLine: a line longer than -max-line is not passed on, its sender is told,
// and the connection goes on working: the next line arrives as usual.
func TestLongLine(t *testing.T) {
	addr := startMain(t, "-max-line", "100")
	peers := dialAll(t, addr, 2)
	a, b := peers[0], peers[1]

	// 100 bytes is allowed, whether the line ends in "\n" (nc) or "\r\n" (telnet).
	// A short line follows, so that a refused line shows at once: b gets the
	// short one first.
	a.say(t, strings.Repeat("y", 100))
	a.say(t, strings.Repeat("Y", 100)+"\r")
	a.say(t, "short")
	b.expect(t, a.name+": "+strings.Repeat("y", 100))
	b.expect(t, a.name+": "+strings.Repeat("Y", 100))
	b.expect(t, a.name+": short")

	// 101 bytes is not, nor is a much longer line that comes in two pieces.
	a.say(t, strings.Repeat("z", 101))
	_, err := io.WriteString(a, strings.Repeat("z", 3000))
	require.NoError(t, err)
	a.say(t, strings.Repeat("z", 3000))
	for range 2 {
		line, ok := a.next(t)
		require.True(t, ok, "a was hung up on: it should only be told")
		require.True(t, strings.HasPrefix(line, "error: "), "a got %q; want an error message", line)
	}

	// Both ways still work, and b heard nothing of the long lines.
	a.say(t, "after")
	b.expect(t, a.name+": after")
	b.say(t, "reply")
	a.expect(t, b.name+": reply")
}

// TestTooManyClients: with -max-clients 3, a fourth client is told why in one
// line and hung up on while the three chat on; once one leaves, a new one gets in.
func TestTooManyClients(t *testing.T) {
	addr := startMain(t, "-max-clients", "3")
	peers := dialAll(t, addr, 3)
	a, b, c := peers[0], peers[1], peers[2]

	d := dial(t, addr)
	line, ok := d.next(t)
	require.True(t, ok, "the fourth client was hung up on without a word")
	require.True(t, strings.HasPrefix(line, "error: ") && strings.Contains(line, "full"),
		"the fourth client got %q; want an error that says the server is full", line)
	_, ok = d.next(t)
	require.False(t, ok, "the fourth client should be hung up on after that line")

	a.say(t, "still here")
	b.expect(t, a.name+": still here")
	c.expect(t, a.name+": still here")

	// a leaves. The server takes a moment to notice, and until then it refuses
	// newcomers; so e tries until it is let in. A refused e hears an error (or
	// just the hang-up), an admitted one's hello reaches b.
	a.Close()
	var e *peer
	var hello string
	for try := 0; e == nil; try++ {
		require.Less(t, try, 100, "no room for a new client after one left")
		p := dial(t, addr)
		hello = fmt.Sprintf("hello %d", try)
		p.say(t, hello)
		select {
		case line, ok := <-p.lines:
			require.True(t, !ok || strings.HasPrefix(line, "error: "), "a newcomer got %q", line)
			p.Close()
		case line := <-b.lines:
			require.Equal(t, p.name+": "+hello, line)
			e = p
		case <-time.After(patience):
			t.Fatal("a new client was neither let in nor refused")
		}
	}
	c.expect(t, e.name+": "+hello)
	b.say(t, "welcome")
	c.expect(t, b.name+": welcome")
	e.expect(t, b.name+": welcome")

	// Full again.
	f := dial(t, addr)
	line, ok = f.next(t)
	require.True(t, ok && strings.HasPrefix(line, "error: "), "a fourth client got %q", line)
}

// TestAcceptBackoff: Accept fails a few times with errors that pass by themselves
// (out of file descriptors, a timeout). The server must not end, nor try again at
// once: it waits 5ms, then twice as long each time. Then it serves as usual.
func TestAcceptBackoff(t *testing.T) {
	real, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	emfile := &net.OpError{Op: "accept", Net: "tcp", Addr: real.Addr(),
		Err: os.NewSyscallError("accept4", syscall.EMFILE)} // what Accept returns then
	timeout := &net.OpError{Op: "accept", Net: "tcp", Addr: real.Addr(), Err: os.ErrDeadlineExceeded}
	l := &flakyListener{Listener: real, fails: []error{emfile, timeout, emfile, emfile},
		real: make(chan struct{})}
	served := startServer(t, l)

	select {
	case err := <-served:
		t.Fatalf("Serve returned %v; after a temporary error it should wait and try again", err)
	case <-l.real: // all the failures are through
	case <-time.After(patience):
		t.Fatal("Serve stopped calling Accept")
	}
	calls := l.times()
	for i, wait := 0, 5*time.Millisecond; i < 4; i, wait = i+1, 2*wait {
		gap := calls[i+1].Sub(calls[i])
		require.GreaterOrEqual(t, gap, wait, "Accept was called again %v after failure %d", gap, i+1)
	}

	peers := dialAll(t, real.Addr().String(), 2)
	peers[0].say(t, "served")
	peers[1].expect(t, peers[0].name+": served")
}

// TestAcceptError: an Accept error that will not pass ends Serve, which returns it.
func TestAcceptError(t *testing.T) {
	real, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	broken := errors.New("the listener is broken")
	served := startServer(t, &flakyListener{Listener: real, fails: []error{broken}})
	select {
	case err := <-served:
		require.ErrorIs(t, err, broken)
	case <-time.After(patience):
		t.Fatal("Serve went on after an error that does not pass")
	}
}

// startServer runs a server on l until the test ends. What Serve returns comes on
// the channel; if the test does not take it, Serve must return nil on Close.
func startServer(t *testing.T, l net.Listener) <-chan error {
	s := NewServer(log.New(testWriter{t}, "", 0))
	served := make(chan error, 1)
	go func() {
		served <- s.Serve(l)
		close(served) // so that the cleanup does not wait if the test took it
	}()
	t.Cleanup(func() {
		s.Close()
		require.NoError(t, <-served)
	})
	return served
}

// testWriter sends the server's log to the test's log: go test -v shows it.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// flakyListener is a real listener whose first Accepts fail with made-up errors.
type flakyListener struct {
	net.Listener
	real chan struct{} // if not nil, closed when the failures are through
	once sync.Once     // closes real

	mu    sync.Mutex
	fails []error     // what the next Accepts return
	calls []time.Time // when Accept was called
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls = append(l.calls, time.Now())
	if len(l.fails) > 0 {
		err := l.fails[0]
		l.fails = l.fails[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	l.once.Do(func() {
		if l.real != nil {
			close(l.real)
		}
	})
	return l.Listener.Accept()
}

// times returns when Accept was called, so far.
func (l *flakyListener) times() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.calls...)
}
