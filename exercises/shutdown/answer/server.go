package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxLine is the most bytes one line may take, its newline included. A longer line
// is refused with a message: with no limit, one client could eat all our memory.
const maxLine = 64 * 1024

// maxName is the longest name a client may choose with /name.
const maxName = 20

// writeTimeout is how long one write to a client may take. A write only waits
// when the client has stopped reading and the buffers between us are full;
// after this long we give up on that client rather than keep everybody waiting.
const writeTimeout = 2 * time.Second

// shutdownNotice is the last line every client reads when the server stops.
const shutdownNotice = "The server is shutting down. Goodbye!\n"

// Server is a chat server: it passes each client's lines on to all the others.
// Tests start it on any net.Listener and stop it with Close or Shutdown.
type Server struct {
	log    *log.Logger        // "Connected ADDR" and "Disconnected ADDR" go here
	ctx    context.Context    // cancelled by Close: every client is hung up on
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // Serve, and one for each client being served

	// accepting ends when Shutdown begins (or ctx ends): Serve takes no more
	// newcomers, but the clients online stay connected until they are told.
	accepting     context.Context
	stopAccepting context.CancelFunc

	// clients is everybody connected now, with their names. Many goroutines use
	// it at once, so every access holds mu: one goroutine at a time. The same
	// goes for guests, the count of guest names handed out so far.
	mu      sync.Mutex
	clients map[net.Conn]string
	guests  int
}

// NewServer returns a server that logs to logger.
func NewServer(logger *log.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	accepting, stopAccepting := context.WithCancel(ctx) // cancelling ctx ends it too
	return &Server{log: logger, ctx: ctx, cancel: cancel, accepting: accepting, stopAccepting: stopAccepting,
		clients: map[net.Conn]string{}}
}

// Serve accepts clients on l until Close or Shutdown is called, and talks to
// each in a goroutine of its own.
func (s *Server) Serve(l net.Listener) error {
	s.wg.Add(1) // Close waits for Serve too, so no client can slip in after it
	defer s.wg.Done()
	defer l.Close()
	stop := context.AfterFunc(s.accepting, func() { l.Close() }) // Close and Shutdown interrupt Accept
	defer stop()

	for {
		conn, err := l.Accept()
		if err != nil {
			if s.accepting.Err() != nil {
				return nil // Close or Shutdown was called: not an error
			}
			return err
		}
		s.wg.Add(1)
		go func() { // no waiting: the loop goes straight back to Accept
			defer s.wg.Done()
			s.handle(timeoutConn{conn}) // from here on, no write to conn can block for long
		}()
	}
}

// Close stops the server, hangs up on every client, and waits for their goroutines.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Shutdown stops the server politely: it takes no more newcomers, tells every
// client that the server is going away, then hangs up and waits for every
// goroutine, as Close does. If ctx ends first, it hangs up on everybody at once
// and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	stop := context.AfterFunc(ctx, s.cancel) // out of time: hang up now, whatever anybody is doing
	defer stop()

	s.mu.Lock()
	// The notices go out all at once, one goroutine each: a client that does not
	// read holds up its own notice for writeTimeout at most, and nobody else's.
	// The group waits for them all and keeps the first error.
	var notices errgroup.Group
	for c := range s.clients {
		notices.Go(func() error {
			_, err := io.WriteString(c, shutdownNotice)
			return err
		})
	}
	err := notices.Wait()
	// Then hang up politely: the end of the stream (a FIN) after the notice, and
	// a moment for what the clients are still sending. Closing at once, with their
	// lines still coming in, would make the kernel answer with a reset, and a
	// reset can destroy the notice in a client's buffers before it reads it.
	for c := range s.clients {
		c.(timeoutConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(linger)) // each reader ends by then, or when its client hangs up
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Printf("Shutdown: a client missed the notice: %v", err)
	}

	s.wg.Wait() // the readers end within linger; if ctx ends first, stop hangs up at once
	s.Close()
	return ctx.Err() // nil unless we ran out of time and hung up early
}

// linger is how long Shutdown waits, after its notice, for what the clients are
// still sending.
const linger = 250 * time.Millisecond

// handle passes every line conn sends on to the other clients until conn leaves.
// A line that starts with "/" is a command for the server instead.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	name, ok := s.join(conn) // only this goroutine renames conn, so this copy stays true
	if !ok {
		s.log.Printf("Turned away %s: the server is shutting down", addr)
		return
	}
	defer s.leave(conn)
	s.log.Printf("Connected %s", addr)

	sc := bufio.NewScanner(conn) // splits at \n and drops a \r before it: nc and telnet both work
	sc.Buffer(nil, maxLine)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "/") {
			s.broadcast(conn, fmt.Sprintf("%s: %s\n", name, line))
			continue
		}
		switch cmd, arg, _ := strings.Cut(line, " "); cmd {
		case "/name":
			name = s.rename(conn, strings.TrimSpace(arg))
		case "/quit":
			s.reply(conn, "Goodbye %s\n", name)
			break lines // a plain break would only leave the switch
		default:
			s.reply(conn, "error: unknown command %s (try /name NEW or /quit)\n", cmd)
		}
	}

	err := sc.Err()
	if errors.Is(err, net.ErrClosed) || s.accepting.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil // we hung up ourselves (Close, Shutdown, or a client too slow): nothing to report
	}
	if errors.Is(err, bufio.ErrTooLong) {
		s.reply(conn, "error: line too long (the limit is %d bytes, newline included); goodbye\n", maxLine)
	}
	if err != nil {
		s.log.Printf("Disconnected %s: %v", addr, err)
		return
	}
	s.log.Printf("Disconnected %s", addr)
}

// join adds conn to the client list under a guest name nobody online has, welcomes
// it, tells the others, and returns the name. Once Shutdown has begun it turns conn
// away instead, and returns false.
func (s *Server) join(conn net.Conn) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Serve may have accepted conn just before Shutdown closed the listener, and
	// Shutdown may already have told everybody online: conn must hear it too.
	if s.accepting.Err() != nil {
		io.WriteString(conn, shutdownNotice)
		return "", false
	}
	// Counting and checking under one lock: two clients arriving at once can
	// never be handed the same number. The loop skips a guest name somebody
	// took with /name.
	var name string
	for name == "" || s.taken(name) {
		s.guests++
		name = fmt.Sprintf("guest%d", s.guests)
	}
	s.clients[conn] = name
	// The count and both notices come from the same locked step as the change:
	// nobody can join or leave in between, so every count is exact and they
	// reach each client in the order the changes happened.
	online := len(s.clients)
	fmt.Fprintf(conn, "Welcome %s (%d online)\n", name, online) // under the lock: no chat line can get ahead of it
	s.sendOthers(conn, fmt.Sprintf("%s joined (%d online)\n", name, online))
	return name, true
}

// leave removes conn from the client list and tells the others.
func (s *Server) leave(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := s.clients[conn] // it may have changed since join: this is the name the others know
	delete(s.clients, conn)
	s.sendOthers(conn, fmt.Sprintf("%s left (%d online)\n", name, len(s.clients)))
}

// rename gives conn the name newName, if it is valid and nobody online has it,
// and tells everybody. It returns conn's name afterwards, new or old.
func (s *Server) rename(conn net.Conn, newName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Checking and taking the name under one lock: if two clients ask for the
	// same name at once, exactly one gets it.
	old := s.clients[conn]
	switch {
	case !validName(newName):
		s.replyLocked(conn, "error: %q is not a valid name: use 1 to %d letters, digits, - or _\n", newName, maxName)
		return old
	case newName == old:
		s.replyLocked(conn, "You are already %s\n", old)
		return old
	case s.taken(newName):
		s.replyLocked(conn, "error: the name %s is taken\n", newName)
		return old
	}
	s.clients[conn] = newName
	s.replyLocked(conn, "You are now %s\n", newName)
	s.sendOthers(conn, fmt.Sprintf("%s is now %s\n", old, newName))
	return newName
}

// taken reports whether a client online has the name. The caller holds mu.
func (s *Server) taken(name string) bool {
	for _, n := range s.clients {
		if n == name {
			return true
		}
	}
	return false
}

// validName reports whether name is 1 to maxName ASCII letters, digits, - or _.
// Keeping names this plain means no spaces, colons or control characters that
// could make one client's line look like it came from somebody else.
func validName(name string) bool {
	if len(name) == 0 || len(name) > maxName {
		return false
	}
	for _, r := range name {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

// reply sends one line to conn alone, unless Shutdown has begun: then its
// goodbye is the last line conn gets, and the reply is not sent.
func (s *Server) reply(conn net.Conn, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replyLocked(conn, format, args...)
}

// replyLocked is reply for a caller that already holds mu.
func (s *Server) replyLocked(conn net.Conn, format string, args ...any) {
	if s.accepting.Err() == nil {
		fmt.Fprintf(conn, format, args...)
	}
}

// broadcast sends msg to every client except the sender, from.
//
// It writes while holding the lock, so the list cannot change under it. A Write
// blocks once a client stops reading and its buffers fill up, and everybody
// waits, but for writeTimeout at most, however many clients are stuck: see
// sendOthers.
func (s *Server) broadcast(from net.Conn, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendOthers(from, msg)
}

// sendOthers is broadcast for a caller that already holds mu. join, leave and
// rename use it to announce a change in the same locked step that makes it, so
// everybody hears of changes in the order they happened.
//
// The writes go out side by side, one goroutine each, and sendOthers waits for
// them all. Written one after the other, twenty clients that stopped reading at
// the same moment would cost twenty write timeouts in a row, with the lock held
// all along; side by side they cost one. (The complete exercise goes further:
// nothing waits for a client under the lock at all.)
func (s *Server) sendOthers(from net.Conn, msg string) {
	if s.accepting.Err() != nil {
		return // Shutdown has begun: its goodbye is the last line anybody gets
	}
	var wg sync.WaitGroup
	for c := range s.clients {
		if c == from {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := io.WriteString(c, msg)
			if err != nil && !errors.Is(err, net.ErrClosed) { // closed: dropped already
				// Too slow, or gone. Closing c makes its own goroutine's next read
				// fail, and that goroutine takes it off the list.
				s.log.Printf("Dropping %s: %v", c.RemoteAddr(), err)
				c.Close()
			}
		}()
	}
	wg.Wait()
}

// timeoutConn is a net.Conn whose every Write gives up after writeTimeout, so a
// client that never reads cannot hold up the server, or its shutdown, for long.
type timeoutConn struct{ net.Conn }

// CloseWrite ends the stream to the client (a FIN) and leaves the other way open.
func (c timeoutConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

func (c timeoutConn) Write(p []byte) (int, error) {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.Conn.Write(p)
}
