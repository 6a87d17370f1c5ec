package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxName is the longest name a client may choose with /name.
const maxName = 20

// shutdownNotice is the last line every client reads when the server stops.
const shutdownNotice = "The server is shutting down. Goodbye!\n"

// Server is a chat server open to strangers: named clients, join and leave
// notices with the count, /name, /quit, a polite shutdown, and limits on
// everything a client could use up. Tests start it on any net.Listener and stop
// it with Close or Shutdown.
type Server struct {
	// The limits. NewServer sets them to defaults; change them before Serve.
	MaxClients   int           // clients at once; one more is told so and hung up on
	MaxPerAddr   int           // clients at once from one IP address
	MaxLine      int           // bytes in a line, not counting its end; a longer one is refused
	MaxQueue     int           // bytes a client may fall behind; it bounds all the queues together, too
	IdleTimeout  time.Duration // a client that sends nothing for this long is hung up on
	WriteTimeout time.Duration // a write to a client that takes longer drops it
	Coalesce     time.Duration // a writer waits this long after a write before the next (see write)

	log    *log.Logger
	ctx    context.Context    // cancelled by Close: every client is hung up on
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // Serve, and one for each client being served

	// accepting ends when Shutdown begins (or ctx ends): Serve takes no more
	// newcomers, but the clients online stay until they have had the notice.
	accepting     context.Context
	stopAccepting context.CancelFunc
	// hurry ends when Shutdown has set final, the moment by which every last
	// write must be over: writers blocked on a stuck client give up then.
	hurry   context.Context
	hurryUp context.CancelFunc
	final   atomic.Int64 // in UnixNano; 0 until Shutdown sets it

	// Everything below is guarded by mu. Nothing done while holding it takes
	// time that grows with the number of clients (except sweepLocked, rarely),
	// and nothing done while holding it waits for a client.
	mu      sync.Mutex
	clients map[*client]bool
	names   map[string]*client
	perAddr map[string]int // clients online from each IP address
	guests  int            // guest names handed out so far
	closing bool           // the shutdown notice is in the log: nothing may follow it

	wakeAll chan struct{} // the changed channel that unlock must close, or nil
	floor   int64         // at the last sweep, no client was behind this point in the log

	// The writers read these without the lock; they change under it.
	head    atomic.Pointer[entry] // the end of the log; see queue.go
	changed atomic.Value          // a chan struct{}, closed and replaced when the log grows for all
}

// client is one connection. Its reader goroutine runs handle; its writer
// goroutine runs write.
type client struct {
	conn net.Conn
	host string        // the IP address it comes from
	wake chan struct{} // rung when the log has something for this client alone; capacity 1

	deadline  time.Time    // the write deadline set last; only the writer uses it
	lastWrite time.Time    // when the last write ended; only the writer uses it
	writing   atomic.Bool  // the writer is in a Write: waiting for the network, maybe
	linger    atomic.Int64 // once hanging up: when to stop reading, in UnixNano

	pos    atomic.Int64          // how far into the log the writer has got: everything before is sent
	stopAt atomic.Pointer[entry] // set when the client has left: the writer sends up to here and stops

	// Guarded by Server.mu.
	name    string
	dropped error // why the server hung up on the client, or nil
}

// NewServer returns a server that logs to logger, with limits for a small public chat.
func NewServer(logger *log.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	accepting, stopAccepting := context.WithCancel(ctx)
	hurry, hurryUp := context.WithCancel(context.Background())
	s := &Server{
		MaxClients:   1000,
		MaxPerAddr:   20,
		MaxLine:      4096,
		MaxQueue:     64 << 20,
		IdleTimeout:  10 * time.Minute,
		WriteTimeout: 10 * time.Second,
		Coalesce:     2 * time.Millisecond,

		log: logger, ctx: ctx, cancel: cancel,
		accepting: accepting, stopAccepting: stopAccepting,
		hurry: hurry, hurryUp: hurryUp,
		clients: map[*client]bool{},
		names:   map[string]*client{},
		perAddr: map[string]int{},
	}
	s.head.Store(&entry{})
	s.changed.Store(make(chan struct{}))
	return s
}

// Serve accepts clients on l until Close or Shutdown is called, and talks to
// each in a goroutine of its own. An Accept error that passes by itself (out of
// file descriptors) does not end it: Serve waits a little, longer each time,
// and tries again.
func (s *Server) Serve(l net.Listener) error {
	s.wg.Add(1) // Close waits for Serve too, so no client can slip in after it
	defer s.wg.Done()
	defer l.Close()
	stop := context.AfterFunc(s.accepting, func() { l.Close() })
	defer stop()

	var delay time.Duration // how long to wait after a failed Accept
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.accepting.Err() != nil {
				return nil // Close or Shutdown was called: not an error
			}
			if !temporary(err) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Printf("accept: %v; trying again in %v", err, delay)
			select {
			case <-time.After(delay):
			case <-s.accepting.Done():
				return nil
			}
			continue
		}
		delay = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn)
		}()
	}
}

// temporary reports whether an Accept error may pass by itself: out of file
// descriptors (EMFILE, or ENFILE for the whole system) passes when clients leave.
func temporary(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.As(err, &ne) && ne.Timeout()
}

// Close stops the server at once: it hangs up on every client and waits for
// all the goroutines it started.
func (s *Server) Close() {
	s.cancel()
	s.hurryUp()
	s.wg.Wait()
}

// Shutdown stops the server politely: it takes no more newcomers, puts the
// shutdown notice at the end of the log, and waits while every writer sends its
// client what is left, the notice last, and hangs up. A writer stuck on a client
// that does not read gives up at a moment set from ctx's deadline (four fifths
// of the time left), so that Shutdown ends in time and returns nil; every
// writer waits for its own client, at the same time as the others, and none of
// them holds the lock. If ctx ends first anyway, Shutdown hangs up on everybody
// at once and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	if deadline, ok := ctx.Deadline(); ok {
		s.final.Store(time.Now().Add(time.Until(deadline) * 4 / 5).UnixNano())
		s.hurryUp() // writers blocked in a Write get the earlier deadline now
	}
	s.mu.Lock()
	if !s.closing {
		s.appendLocked(&entry{data: []byte(shutdownNotice), final: true})
		s.closing = true
	}
	s.unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// handle serves one client: it joins it, starts its writer, reads its lines
// until it leaves, and says goodbye for it.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr().String()

	c, at, refusal := s.join(conn)
	if c == nil {
		// Refused: it has no writer goroutine, so we write its one line ourselves.
		s.log.Printf("Refused %s: %s", addr, strings.TrimSpace(refusal))
		conn.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
		io.WriteString(conn, refusal)
		return
	}
	hurry := context.AfterFunc(s.hurry, func() { conn.SetWriteDeadline(time.Unix(0, s.final.Load())) })
	defer hurry()
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.write(c, at)
	}()
	s.log.Printf("Connected %s as %s", addr, c.name)

	why := s.read(c)
	s.leave(c, why)
	<-written // it sends what was for c up to its leaving, then ends
	s.hangUp(c)
	io.Copy(io.Discard, conn) // until the client hangs up too, or the linger is over
	if why != "" {
		s.log.Printf("Disconnected %s: %s", addr, why)
		return
	}
	s.log.Printf("Disconnected %s", addr)
}

// read passes on what c sends until c leaves, and returns why it left: "" if it
// hung up or quit. All the chat lines of one read go to the log as one entry,
// so a client that sends many lines at once costs one broadcast, not one each.
func (s *Server) read(c *client) (why string) {
	lr := newLineReader(c.conn, s.MaxLine)
	name := s.nameOf(c) // only this goroutine renames c, so this copy stays true
	var out []byte      // the chat lines of this read, ready to send
	flush := func() {
		if len(out) > 0 {
			s.broadcast(c, out) // the log keeps out: start a new one
			out = nil
		}
	}
	quit := false
	for !quit {
		deadline := time.Now().Add(s.IdleTimeout)
		if until := c.linger.Load(); until != 0 { // hanging up: only draining now
			deadline = time.Unix(0, until)
		}
		err := lr.read(deadline, func(line []byte, tooLong bool) {
			switch {
			case quit: // the rest of a read after /quit is not sent
			case tooLong:
				flush()
				s.tell(c, fmt.Sprintf("error: line too long (the limit is %d bytes); ignored\n", s.MaxLine))
			case len(line) > 0 && line[0] == '/' || string(line) == "!quit":
				flush() // lines before a command go out before its effect
				quit = s.command(c, &name, string(line))
			default:
				out = append(out, name...)
				out = append(out, ": "...)
				out = appendClean(out, line)
				out = append(out, '\n')
			}
		})
		flush()
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) && c.linger.Load() != 0:
			return "" // the shutdown notice is out, and the linger is over
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.tell(c, fmt.Sprintf("error: you sent nothing for %v; goodbye\n", s.IdleTimeout))
			return fmt.Sprintf("idle for %v", s.IdleTimeout)
		case errors.Is(err, io.EOF):
			return ""
		default:
			if why := s.droppedFor(c); why != nil {
				return why.Error()
			}
			if errors.Is(err, net.ErrClosed) {
				return "" // we hung up: Close, or the shutdown notice is out
			}
			return err.Error()
		}
	}
	return ""
}

// command carries out a line that starts with "/" (or PyChat's "!quit"), and
// reports whether the client asked to leave.
func (s *Server) command(c *client, name *string, line string) (quit bool) {
	cmd, arg, _ := strings.Cut(line, " ")
	switch cmd {
	case "/name":
		*name = s.rename(c, strings.TrimSpace(arg))
	case "/quit", "!quit": // the second is what PyChat's client sends
		s.tell(c, "Goodbye "+*name+"\n")
		return true
	default:
		shown := appendClean(nil, []byte(cmd)) // it goes back to the client's terminal too
		s.tell(c, fmt.Sprintf("error: unknown command %s (try /name NEW or /quit)\n", shown))
	}
	return false
}

// join adds conn to the client list under a guest name nobody online has,
// welcomes it and tells the others. It returns the client and where its writer
// starts in the log; or, if conn is refused, nil and the line that says why.
func (s *Server) join(conn net.Conn) (*client, *entry, string) {
	host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	s.mu.Lock()
	defer s.unlock()
	switch {
	case s.closing || s.accepting.Err() != nil:
		return nil, nil, shutdownNotice
	case len(s.clients) >= s.MaxClients:
		return nil, nil, fmt.Sprintf("error: server full (%d clients); try again later\n", s.MaxClients)
	case s.perAddr[host] >= s.MaxPerAddr:
		return nil, nil, fmt.Sprintf("error: too many connections from %s (the limit is %d)\n", host, s.MaxPerAddr)
	}
	var name string
	for name == "" || s.names[name] != nil { // skip a guest name somebody took with /name
		s.guests++
		name = fmt.Sprintf("guest%d", s.guests)
	}
	at := s.head.Load() // c's writer starts here: nothing said before c came reaches it
	c := &client{conn: conn, host: host, wake: make(chan struct{}, 1), name: name}
	c.pos.Store(at.end)
	s.clients[c] = true
	s.names[name] = c
	s.perAddr[host]++
	// The count and both notices go in the log in the same locked step as the
	// change, so every count is exact and everybody hears them in order.
	online := len(s.clients)
	s.appendLocked(&entry{to: c, data: fmt.Appendf(nil, "Welcome %s (%d online)\n", name, online)})
	s.appendLocked(&entry{from: c, data: fmt.Appendf(nil, "%s joined (%d online)\n", name, online)})
	return c, at, ""
}

// leave removes c from the client list and tells the others, with why if the
// server hung up on it. c's writer sends what the log has for c up to here, and
// stops.
func (s *Server) leave(c *client, why string) {
	s.mu.Lock()
	defer s.unlock()
	delete(s.clients, c)
	delete(s.names, c.name)
	if s.perAddr[c.host]--; s.perAddr[c.host] == 0 {
		delete(s.perAddr, c.host)
	}
	c.stopAt.Store(s.head.Load())
	c.ring()
	if why != "" {
		why = ": " + why
	}
	s.appendLocked(&entry{from: c, data: fmt.Appendf(nil, "%s left (%d online)%s\n", c.name, len(s.clients), why)})
}

// rename gives c the name newName, if it is valid and nobody online has it, and
// tells everybody. It returns c's name afterwards, new or old.
func (s *Server) rename(c *client, newName string) string {
	s.mu.Lock()
	defer s.unlock()
	old := c.name
	switch {
	case !validName(newName):
		s.appendLocked(&entry{to: c, data: fmt.Appendf(nil,
			"error: %q is not a valid name: use 1 to %d letters, digits, - or _\n", newName, maxName)})
		return old
	case newName == old:
		s.appendLocked(&entry{to: c, data: fmt.Appendf(nil, "You are already %s\n", old)})
		return old
	case s.names[newName] != nil:
		s.appendLocked(&entry{to: c, data: fmt.Appendf(nil, "error: the name %s is taken\n", newName)})
		return old
	}
	delete(s.names, old)
	s.names[newName] = c
	c.name = newName
	s.appendLocked(&entry{to: c, data: fmt.Appendf(nil, "You are now %s\n", newName)})
	s.appendLocked(&entry{from: c, data: fmt.Appendf(nil, "%s is now %s\n", old, newName)})
	return newName
}

// validName reports whether name is 1 to maxName ASCII letters, digits, - or _:
// no spaces, colons or control characters that could make one client's line
// look like it came from somebody else.
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

// broadcast passes lines, ready to send, to every client except from.
func (s *Server) broadcast(from *client, lines []byte) {
	s.mu.Lock()
	defer s.unlock()
	s.appendLocked(&entry{from: from, data: lines})
}

// tell sends msg to c alone.
func (s *Server) tell(c *client, msg string) {
	s.mu.Lock()
	defer s.unlock()
	s.appendLocked(&entry{to: c, data: []byte(msg)})
}

func (s *Server) nameOf(c *client) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.name
}

func (s *Server) droppedFor(c *client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.dropped
}
