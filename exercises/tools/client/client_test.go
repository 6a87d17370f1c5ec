package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait is how long a test waits for something that should take milliseconds.
const wait = 5 * time.Second

// sgr matches an ANSI colour code ("Select Graphic Rendition"), like "\x1b[1;31m".
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// --- a tiny chat server for the tests ------------------------------------

// testServer is a small chat server written for these tests, so that they do
// not depend on the stages. In chat mode it passes each line on to the other
// clients as "ADDR: line"; in echo mode it sends each line back to its sender,
// and answers the end of a client's input with a last line, echoFarewell.
// Either way it records every line exactly as it arrived, "\r" and "\n" included.
type testServer struct {
	addr   string
	echo   bool
	l      net.Listener
	heard  chan string // every line any client sent, raw
	joined chan string // the address of each client that connects
	left   chan error  // how each client's connection ended: nil means a clean end of input
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

const echoFarewell = "that was all: goodbye"

func newTestServer(t *testing.T, echo bool) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &testServer{
		addr: l.Addr().String(), echo: echo, l: l,
		heard: make(chan string, 100), joined: make(chan string, 10), left: make(chan error, 10),
		conns: map[net.Conn]bool{},
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		l.Close()
		s.hangUp()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.l.Accept()
		if err != nil {
			return // the listener was closed
		}
		conn.SetDeadline(time.Now().Add(2 * wait)) // no test talks for longer
		s.mu.Lock()
		s.conns[conn] = true
		s.mu.Unlock()
		s.joined <- conn.RemoteAddr().String()
		s.wg.Add(1)
		go s.handle(conn)
	}
}

func (s *testServer) handle(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	r := bufio.NewReader(conn)
	for {
		raw, err := r.ReadString('\n')
		if err != nil {
			if raw == "" && errors.Is(err, io.EOF) {
				err = nil // a clean end of input
				if s.echo {
					fmt.Fprintf(conn, "%s\n", echoFarewell)
				}
			}
			s.left <- err
			return
		}
		s.heard <- raw
		line := strings.TrimRight(raw, "\r\n")
		if s.echo {
			fmt.Fprintf(conn, "%s\n", line)
		} else {
			s.broadcast(conn, fmt.Sprintf("%s: %s\n", conn.RemoteAddr(), line))
		}
	}
}

// broadcast sends msg to every client but from.
func (s *testServer) broadcast(from net.Conn, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c != from {
			c.Write([]byte(msg))
		}
	}
}

// say sends line to every client, as if someone had typed it.
func (s *testServer) say(line string) { s.broadcast(nil, line+"\n") }

// hangUp closes every client's connection: the server goes away.
func (s *testServer) hangUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// waitJoin waits until a client has connected and returns its address.
func (s *testServer) waitJoin(t *testing.T, c *client) string {
	t.Helper()
	select {
	case addr := <-s.joined:
		return addr
	case <-c.exited:
		t.Fatalf("the client returned before connecting: %v", c.err)
	case <-time.After(wait):
		t.Fatal("no client connected")
	}
	return ""
}

// nextLine returns the next line the server heard, raw.
func (s *testServer) nextLine(t *testing.T) string {
	t.Helper()
	select {
	case line := <-s.heard:
		return line
	case <-time.After(wait):
		t.Fatal("the server heard nothing")
	}
	return ""
}

// --- running the client in-process ---------------------------------------

// syncBuffer is a bytes.Buffer that the client's goroutines and the test can use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client is one run of the client, with a keyboard (a pipe) and a screen (buffers).
type client struct {
	keyboard       *os.File // what the test writes here, run reads as stdin
	stdout, stderr syncBuffer
	tty            syncBuffer         // both, in the order written: what a terminal would show
	cancel         context.CancelFunc // the test's Ctrl+C
	exited         chan struct{}      // closed when run has returned
	err            error              // what run returned
}

// startClient runs the client against addr in a goroutine of its own.
func startClient(t *testing.T, addr string, lk look) *client {
	t.Helper()
	stdin, keyboard, err := os.Pipe() // a real pipe: the test's writes never block
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{keyboard: keyboard, cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(c.exited)
		c.err = run(ctx, addr, stdin, io.MultiWriter(&c.stdout, &c.tty), io.MultiWriter(&c.stderr, &c.tty), lk)
	}()
	t.Cleanup(func() {
		cancel()
		keyboard.Close() // end of input: the goroutine reading stdin ends too
		c.wait(t)
		stdin.Close()
	})
	return c
}

// typeLine types line and Enter.
func (c *client) typeLine(t *testing.T, line string) {
	t.Helper()
	_, err := c.keyboard.WriteString(line + "\n")
	require.NoError(t, err)
}

// wait waits for run to return and returns its error.
func (c *client) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-c.exited:
		return c.err
	case <-time.After(wait):
		t.Fatal("the client did not exit")
		return nil
	}
}

// screenLines is how a terminal shows out, line by line: a carriage return goes
// back to the start of the line, and what follows it (after an erase) replaces
// what was there; colours are left out.
func screenLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.LastIndex(l, "\r"); i >= 0 {
			l = l[i+1:]
		}
		lines = append(lines, sgr.ReplaceAllString(strings.ReplaceAll(l, eraseLine, ""), ""))
	}
	return lines
}

// eventually waits until cond holds for what buf shows, and reports buf if it never does.
func eventually(t *testing.T, buf *syncBuffer, what string, cond func(string) bool) {
	t.Helper()
	require.Eventually(t, func() bool { return cond(buf.String()) }, wait, 10*time.Millisecond,
		"never saw %s; the output was %q", what, buf) // buf is printed when the test fails
}

// --- the tests -------------------------------------------------------------

func TestTypedLinesReachTheServer(t *testing.T) {
	srv := newTestServer(t, false)
	c := startClient(t, srv.addr, look{})
	srv.waitJoin(t, c)

	c.typeLine(t, "hello")
	assert.Equal(t, "hello\n", srv.nextLine(t))
	// A Windows console ends lines with \r\n; the server gets a plain \n.
	c.typeLine(t, "from windows\r")
	assert.Equal(t, "from windows\n", srv.nextLine(t))
}

func TestIncomingLinesArePrinted(t *testing.T) {
	srv := newTestServer(t, false)
	c := startClient(t, srv.addr, look{})
	srv.waitJoin(t, c)

	srv.say("alice: hello")
	srv.say("bob: hi alice")
	want := "alice: hello\nbob: hi alice\n"
	eventually(t, &c.stdout, "both lines", func(s string) bool { return len(s) >= len(want) })
	assert.Equal(t, want, c.stdout.String(), "stdout holds the conversation and nothing else")
	assert.Contains(t, c.stderr.String(), "connected to "+srv.addr)
}

func TestTwoClientsChat(t *testing.T) {
	srv := newTestServer(t, false)
	ann := startClient(t, srv.addr, look{})
	annAddr := srv.waitJoin(t, ann)
	bob := startClient(t, srv.addr, look{})
	srv.waitJoin(t, bob)

	ann.typeLine(t, "hi bob")
	want := annAddr + ": hi bob\n"
	eventually(t, &bob.stdout, "ann's line", func(s string) bool { return s == want })
	assert.Empty(t, ann.stdout.String(), "the server does not send ann's line back to her")
}

func TestEndOfInputIsAGoodbye(t *testing.T) {
	// The whole input is there at once and then ends, like `client < file`.
	// End of input closes only our sending half: the server reads the end of
	// our input while it can still answer, so its echoes and its farewell
	// arrive. (Had the client closed the whole connection, the farewell could
	// never be printed.)
	srv := newTestServer(t, true)
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), srv.addr, strings.NewReader("one\ntwo\n"), &stdout, &stderr, look{})
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatal("the client did not exit at the end of its input")
	}
	assert.Equal(t, "one\ntwo\n"+echoFarewell+"\n", stdout.String(), "every answer is printed before the client leaves")
	select {
	case err := <-srv.left:
		assert.NoError(t, err, "the server sees a clean end of input, not a broken connection")
	case <-time.After(wait):
		t.Fatal("the server never saw the client leave")
	}
}

func TestServerHangsUp(t *testing.T) {
	srv := newTestServer(t, false)
	c := startClient(t, srv.addr, look{}) // nobody types
	srv.waitJoin(t, c)

	srv.say("server: closing time")
	eventually(t, &c.stdout, "the last line", func(s string) bool { return s != "" })
	srv.hangUp()
	require.NoError(t, c.wait(t), "the server leaving is a normal goodbye")
	assert.Equal(t, "server: closing time\n", c.stdout.String())
	assert.Contains(t, c.stderr.String(), "server closed the connection")
}

func TestCtrlC(t *testing.T) {
	srv := newTestServer(t, false)
	c := startClient(t, srv.addr, look{terminal: true})
	srv.waitJoin(t, c)
	eventually(t, &c.stderr, "the client connected", func(s string) bool { return strings.Contains(s, "connected to") })

	c.cancel() // what Ctrl+C does in main
	require.NoError(t, c.wait(t))
	assert.Contains(t, c.stderr.String(), "bye")
	// On the terminal, the goodbye has a line of its own (the prompt was wiped
	// first, not left in front of it), and the cursor ends on an empty line.
	lines := screenLines(c.tty.String())
	assert.Contains(t, lines, "bye", "the terminal shows %q", lines)
	assert.Empty(t, lines[len(lines)-1], "the terminal's last line shows %q; the prompt must be wiped", lines[len(lines)-1])
	select {
	case <-srv.left: // the connection was closed, not left open behind
	case <-time.After(wait):
		t.Fatal("the client left without closing its connection")
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close() // nobody listens there now

	var stdout, stderr syncBuffer
	err = run(context.Background(), addr, strings.NewReader(""), &stdout, &stderr, look{})
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr, "a failed connection is an error")
	assert.Equal(t, "dial", opErr.Op)
	assert.NotContains(t, err.Error(), "\n", "one line is enough")
	assert.Empty(t, stdout.String())
}

func TestNoEscapeCodesWithoutColour(t *testing.T) {
	nasty := "mallory: \x1b[2J\x1b[31mred\a\xff"
	for _, tc := range []struct {
		name string
		lk   look
	}{
		{"pipe", pickLook(false, "")},
		{"terminal with NO_COLOR", pickLook(true, "1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, false)
			c := startClient(t, srv.addr, tc.lk)
			srv.waitJoin(t, c)

			srv.say("alice: hello")
			srv.say(nasty) // another client can send anything at all
			eventually(t, &c.stdout, "both lines", func(s string) bool { return strings.Contains(s, "red") })
			out := c.stdout.String()
			assert.Contains(t, out, "alice: hello\n")
			assert.Empty(t, sgr.FindAllString(out, -1), "no colour codes")
			assert.NotContains(t, out, "\x1b[2J", "mallory cannot clear our screen")
			assert.NotContains(t, out, "\a")
			assert.True(t, utf8.ValidString(out), "bytes that are not UTF-8 are replaced")
			if !tc.lk.terminal {
				assert.NotContains(t, out, "\x1b", "a pipe gets no escape codes at all")
				assert.NotContains(t, out, prompt)
			}
		})
	}
}

func TestTerminalRedrawsThePrompt(t *testing.T) {
	srv := newTestServer(t, false)
	c := startClient(t, srv.addr, look{terminal: true, color: true})
	srv.waitJoin(t, c)
	eventually(t, &c.stdout, "the prompt", func(s string) bool { return strings.HasSuffix(s, "[You] ") })

	// An incoming line wipes the prompt's line (\r, erase), takes its place
	// with the name in colour, and draws the prompt again below.
	srv.say("alice: hello")
	redrawn := regexp.MustCompile(`\r\x1b\[K\x1b\[[0-9;]+malice:\x1b\[0m hello\n\[You\] $`)
	eventually(t, &c.stdout, "alice's line and a new prompt", redrawn.MatchString)

	srv.say("a line with no name")
	eventually(t, &c.stdout, "a plain line and a new prompt", func(s string) bool {
		return strings.HasSuffix(s, "\r\x1b[Ka line with no name\n[You] ")
	})

	// After Enter the cursor is on a fresh line, which gets a fresh prompt.
	before := strings.Count(c.stdout.String(), "[You] ")
	c.typeLine(t, "hi")
	assert.Equal(t, "hi\n", srv.nextLine(t))
	eventually(t, &c.stdout, "one more prompt", func(s string) bool {
		return strings.Count(s, "[You] ") == before+1 && strings.HasSuffix(s, "\r\x1b[K[You] ")
	})
}

func TestColorName(t *testing.T) {
	for _, line := range []string{"alice: hi", "127.0.0.1:51234: hi: there", "bob:  two spaces"} {
		got := colorName(line)
		name, _, _ := strings.Cut(line, ": ")
		assert.Regexp(t, `^\x1b\[[0-9;]+m`+regexp.QuoteMeta(name+":")+`\x1b\[0m `, got, "the name is coloured")
		assert.Equal(t, line, sgr.ReplaceAllString(got, ""), "and nothing else changes")
	}
	for _, line := range []string{"no name here", "two words: are no name", ": nameless", "alice:no space", ""} {
		assert.Equal(t, line, colorName(line), "a line without a name is left alone")
	}
	assert.Equal(t, colorName("alice: one"), strings.Replace(colorName("alice: two"), "two", "one", 1),
		"a name keeps its colour")
}

func TestPickLook(t *testing.T) {
	assert.Equal(t, look{terminal: true, color: true}, pickLook(true, ""))
	assert.Equal(t, look{terminal: true}, pickLook(true, "1"), "NO_COLOR turns colour off")
	assert.Equal(t, look{terminal: true}, pickLook(true, "0"), "any value of NO_COLOR does")
	assert.Equal(t, look{}, pickLook(false, ""), "a pipe gets neither prompt nor colour")
}

func TestIsTerminal(t *testing.T) {
	// The true case needs a real terminal: see TestProgramInATerminal.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.False(t, isTerminal(w), "a pipe")

	f, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f), "a file")
}
