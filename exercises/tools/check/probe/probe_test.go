//go:build ignore

// The checker's in-process tests. They check what cannot be seen on the wire:
// what Close does. The checker lays this file next to the program it checks (with
// go test -overlay: the learner's folder is not touched, and the program's own
// tests are left out) and runs one test at a time. They drive the Server as the
// stages' own tests do: NewServer(*log.Logger) *Server, Serve(net.Listener) error
// and Close(). Every name here starts with "checker", so none clashes with the
// program's own, and only the standard library is used.
//
// A failing test prints two lines that the checker reads:
//
//	CHECKER-SAW: what happened
//	CHECKER-FIX: what to change

package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkerWait bounds every wait for something that should happen.
const checkerWait = 3 * time.Second

// checkerGrace is how long a Close that should be waiting is given to return
// anyway: a Close that does not wait returns within microseconds.
const checkerGrace = time.Second

func checkerFail(t *testing.T, fix, format string, args ...any) {
	t.Helper()
	fmt.Printf("CHECKER-SAW: %s\nCHECKER-FIX: %s\n", fmt.Sprintf(format, args...), fix)
	t.FailNow()
}

// checkerLog is the server's log. It keeps every line, and when hold is set, it
// holds back the first write that contains it until release is closed.
type checkerLog struct {
	mu      sync.Mutex
	buf     strings.Builder
	hold    string
	held    chan string // receives the held line
	release chan struct{}
}

func (l *checkerLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	hold := l.hold != "" && strings.Contains(string(p), l.hold)
	if hold {
		l.hold = "" // only the first
	}
	l.mu.Unlock()
	if hold {
		l.held <- string(p)
		<-l.release
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	return len(p), nil
}

func (l *checkerLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

// waitFor waits until the log has s, for at most d; it tells whether it came.
func (l *checkerLog) waitFor(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !l.has(s) {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// checkerStart starts a Server on a free port of 127.0.0.1 and connects n clients,
// each waited for (a little) until the server logs it. Serve's result goes to served.
func checkerStart(t *testing.T, logs *checkerLog, n int) (*Server, []net.Conn, chan error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(log.New(logs, "", 0))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var conns []net.Conn
	logged := true
	for range n {
		conn, err := net.DialTimeout("tcp", l.Addr().String(), checkerWait)
		if err != nil {
			checkerFail(t, "", "a client could not connect: %v", err)
		}
		t.Cleanup(func() { conn.Close() })
		conns = append(conns, conn)
		if logged { // a server that does not log its clients costs the wait once
			logged = logs.waitFor("Connected "+conn.LocalAddr().String(), 500*time.Millisecond)
		}
	}
	return srv, conns, served
}

// Close stops the server: it returns, it hangs up on the client, and Serve returns nil.
func TestCheckerCloseStops(t *testing.T) {
	srv, conns, served := checkerStart(t, &checkerLog{}, 1)
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(checkerWait):
		checkerFail(t, "Close must first end what it waits for (cancel the context, which closes the listener and every connection), then wait",
			"with a client connected, Close did not return within %v", checkerWait)
	}

	conns[0].SetReadDeadline(time.Now().Add(checkerWait))
	if _, err := io.Copy(io.Discard, conns[0]); err != nil && isTimeout(err) {
		checkerFail(t, "Close must hang up on every client: close each connection when the server's context is cancelled",
			"after Close, the client was not hung up within %v", checkerWait)
	}

	select {
	case err := <-served:
		if err != nil {
			checkerFail(t, "when Accept fails because Close was called (the server's context is done), Serve must return nil: only other errors are errors",
				"after Close, Serve returned the error %q", err.Error())
		}
	case <-time.After(checkerWait):
		checkerFail(t, "when Accept fails, Serve must return (nil when Close was called), not go round its loop again",
			"after Close, Serve did not return within %v", checkerWait)
	}
}

// Close returns only when the server has finished with every client: a client's
// goroutine that is still logging its goodbye must hold Close up.
func TestCheckerCloseWaits(t *testing.T) {
	logs := &checkerLog{hold: "Disconnected", held: make(chan string, 1), release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			close(logs.release)
			released = true
		}
	}
	defer release()
	srv, conns, _ := checkerStart(t, logs, 2)

	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	const fix = "count every client's goroutine (a sync.WaitGroup: Add before the go statement, Done when the goroutine ends), and have Close wait for them all"
	select {
	case line := <-logs.held:
		// A client's goroutine is logging that it left, and waits for the log: a
		// Close that waits for it cannot have returned.
		select {
		case <-closed:
			release()
			checkerFail(t, fix, "Close returned while a client's goroutine was still running (it was logging %q)", strings.TrimSpace(line))
		case <-time.After(checkerGrace):
		}
	case <-closed:
		select {
		case line := <-logs.held:
			release()
			checkerFail(t, fix, "Close returned while a client's goroutine was still running (it was logging %q)", strings.TrimSpace(line))
		case <-time.After(checkerWait):
			if !checkerHungUp(conns[0]) {
				checkerFail(t, "Close must hang up on every client: close each connection when the server's context is cancelled",
					"Close returned, and the clients were not hung up within %v", checkerWait)
			}
			checkerFail(t, "log \"Disconnected ADDR\" when a client's goroutine ends, as the stages do",
				"after Close, no client's goroutine logged \"Disconnected\" within %v, so the checker cannot tell whether Close waited for them", checkerWait)
		}
	case <-time.After(checkerWait):
		checkerFail(t, "Close must first hang up on every client (cancel the context), then wait for their goroutines",
			"after Close was called, no client's goroutine logged \"Disconnected\" and Close did not return within %v", checkerWait)
	}
	release()
	select {
	case <-closed:
	case <-time.After(checkerWait):
		checkerFail(t, "Close must first hang up on every client (cancel the context), then wait for their goroutines",
			"Close did not return within %v after the clients' goroutines had ended", checkerWait)
	}
}

// checkerConn is the server's side of a connection: it counts the writes made
// after the server closed it.
type checkerConn struct {
	net.Conn
	closed atomic.Bool
	late   atomic.Int32
}

func (c *checkerConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

func (c *checkerConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		c.late.Add(1)
	}
	return c.Conn.Write(p)
}

// checkerListener hands the server checkerConns, and keeps them by the client's address.
type checkerListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]*checkerConn
}

func (l *checkerListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &checkerConn{Conn: conn}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns[conn.RemoteAddr().String()] = c
	return c, nil
}

func (l *checkerListener) serverSide(client net.Conn) *checkerConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[client.LocalAddr().String()]
}

// checkerReader reads one client's lines in the background.
type checkerReader struct {
	mu   sync.Mutex
	text strings.Builder
}

func checkerRead(conn net.Conn) *checkerReader {
	r := &checkerReader{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			r.mu.Lock()
			r.text.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return r
}

// hasAny waits until the client has read one of lines, for at most d.
func (r *checkerReader) hasAny(lines []string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		text := r.text.String()
		r.mu.Unlock()
		for _, l := range lines {
			if strings.Contains(text, l) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
}

// A client that left is forgotten, whichever way it left: once the server has
// closed its connection, nothing more is written to it.
func TestCheckerForgetsClients(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &checkerListener{Listener: raw, conns: map[string]*checkerConn{}}
	logs := &checkerLog{}
	srv := NewServer(log.New(logs, "", 0))
	go srv.Serve(l) // not closed at the end: a broken Close must not hang this test

	names := []string{"A", "B", "the client that ended its input", "the client that sent a line over 64 KiB", "the client that reset its connection"}
	var conns []net.Conn
	var readers []*checkerReader
	for _, name := range names {
		conn, err := net.DialTimeout("tcp", raw.Addr().String(), checkerWait)
		if err != nil {
			checkerFail(t, "", "%s could not connect: %v", name, err)
		}
		t.Cleanup(func() { conn.Close() })
		conns = append(conns, conn)
		readers = append(readers, checkerRead(conn))
		logs.waitFor("Connected "+conn.LocalAddr().String(), 500*time.Millisecond)
	}
	// A talks until one of its lines has reached each of the clients to: then
	// every line A sent before it has been passed on to everybody on the list.
	say := func(when string, to ...int) {
		t.Helper()
		var sent []string
		deadline := time.Now().Add(checkerWait)
		for {
			line := fmt.Sprintf("checker-line-%d", time.Now().UnixNano())
			if _, err := io.WriteString(conns[0], line+"\n"); err != nil {
				checkerFail(t, "", "A could not send a line %s: %v", when, err)
			}
			sent = append(sent, line)
			missing := ""
			for _, i := range to {
				if !readers[i].hasAny(sent, 200*time.Millisecond) {
					missing = names[i]
					break
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				checkerFail(t, "make \"broadcasts to the others\" pass first",
					"A sent lines %s, and %s got none of them within %v", when, missing, checkerWait)
			}
		}
	}
	say("while everybody was connected", 1, 2, 3, 4)

	// Three of them leave, each in its own way.
	conns[2].(*net.TCPConn).CloseWrite()
	go io.WriteString(conns[3], strings.Repeat("x", 64*1024+1)) // it may block once the server stops reading
	conns[4].(*net.TCPConn).SetLinger(0)                        // close with a reset, not the end of input
	conns[4].Close()
	for i := 2; i < 5; i++ {
		deadline := time.Now().Add(checkerWait)
		tick := time.NewTicker(time.Millisecond)
		for c := l.serverSide(conns[i]); c == nil || !c.closed.Load(); c = l.serverSide(conns[i]) {
			if time.Now().After(deadline) {
				checkerFail(t, "when a client leaves (its input ends, it resets, or its line is too long), close its connection",
					"%s left, and the server did not close its connection within %v", names[i], checkerWait)
			}
			<-tick.C
		}
		tick.Stop()
	}

	// A talks again, twice: once B has a line of the second time, every line of
	// the first time has been passed to everybody still on the list.
	say("after three had left", 1)
	say("after three had left", 1)
	var wrote []string
	for i := 2; i < 5; i++ {
		if n := l.serverSide(conns[i]).late.Load(); n > 0 {
			wrote = append(wrote, fmt.Sprintf("%s (%d lines)", names[i], n))
		}
	}
	if len(wrote) > 0 {
		checkerFail(t, "take a client off the list whichever way it leaves (end of input, a reset, a line too long, Close), before its connection is closed",
			"after the server had closed their connections, it still wrote to %s", strings.Join(wrote, " and to "))
	}
}

// checkerHungUp tells whether the server has hung up on the client (its data, if
// any, read and dropped).
func checkerHungUp(conn net.Conn) bool {
	conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := io.Copy(io.Discard, conn)
	return err == nil || !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
