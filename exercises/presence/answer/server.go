package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxLine is the most bytes one line may take, its newline included. A longer line
// is refused with a message: with no limit, one client could eat all our memory.
const maxLine = 64 * 1024

// maxName is the longest name a client may choose with /name.
const maxName = 20

// Server is a chat server: it passes each client's lines on to all the others.
// Tests start it on any net.Listener and stop it with Close.
type Server struct {
	log    *log.Logger        // "Connected ADDR" and "Disconnected ADDR" go here
	ctx    context.Context    // cancelled by Close
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // Serve, and one for each client being served

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
	return &Server{log: logger, ctx: ctx, cancel: cancel, clients: map[net.Conn]string{}}
}

// Serve accepts clients on l until Close is called, and talks to each in a
// goroutine of its own.
func (s *Server) Serve(l net.Listener) error {
	s.wg.Add(1) // Close waits for Serve too, so no client can slip in after it
	defer s.wg.Done()
	defer l.Close()
	stop := context.AfterFunc(s.ctx, func() { l.Close() }) // Close interrupts Accept
	defer stop()

	for {
		conn, err := l.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil // Close was called: not an error
			}
			return err
		}
		s.wg.Add(1)
		go func() { // no waiting: the loop goes straight back to Accept
			defer s.wg.Done()
			s.handle(conn)
		}()
	}
}

// Close stops the server, hangs up on every client, and waits for their goroutines.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// handle passes every line conn sends on to the other clients until conn leaves.
// A line that starts with "/" is a command for the server instead.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	name := s.join(conn) // only this goroutine renames conn, so this copy stays true
	defer s.leave(conn)
	s.log.Printf("Connected %s", addr)

	sc := bufio.NewScanner(conn) // splits at \n and drops a \r before it: nc and telnet both work
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "/") {
			s.broadcast(conn, name+": "+clean(line)+"\n")
			continue
		}
		switch cmd, arg, _ := strings.Cut(line, " "); cmd {
		case "/name":
			name = s.rename(conn, strings.TrimSpace(arg))
		default:
			fmt.Fprintf(conn, "error: unknown command %s (try /name NEW)\n", clean(cmd))
		}
	}

	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		fmt.Fprintf(conn, "error: line too long (the limit is %d bytes, newline included); goodbye\n", maxLine)
	}
	if err != nil {
		s.log.Printf("Disconnected %s: %v", addr, err)
		return
	}
	s.log.Printf("Disconnected %s", addr)
}

// join adds conn to the client list under a guest name nobody online has, welcomes
// it, tells the others, and returns the name.
func (s *Server) join(conn net.Conn) string {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	return name
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
		fmt.Fprintf(conn, "error: %q is not a valid name: use 1 to %d letters, digits, - or _\n", newName, maxName)
		return old
	case newName == old:
		fmt.Fprintf(conn, "You are already %s\n", old)
		return old
	case s.taken(newName):
		fmt.Fprintf(conn, "error: the name %s is taken\n", newName)
		return old
	}
	s.clients[conn] = newName
	fmt.Fprintf(conn, "You are now %s\n", newName)
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

// clean returns text with everything that could drive the terminal that prints
// it made visible and harmless. Names are plain because validName says so; a
// chat line can hold anything, and nc prints it as it comes:
//
//   - an escape sequence (ESC, then more) can clear the screen, set the window's
//     title, or with OSC 52 write the reader's clipboard;
//   - a bare "\r" sends the cursor back to the start of the line, so that
//     "hi\rguest9: send me your password" shows as a line from guest9;
//   - the bidirectional overrides (U+202A to U+202E, U+2066 to U+2069) show
//     what follows them in another order than it was typed.
//
// So the C0 control characters become their pictures (ESC shows as ␛, "\r" as
// ␍), DEL shows as ␡, a tab becomes a space, and C1 controls, the overrides, the
// line and paragraph separators and bytes that are not UTF-8 become U+FFFD.
func clean(text string) string {
	var b strings.Builder
	for _, r := range text { // a byte that is not UTF-8 comes as utf8.RuneError, U+FFFD
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20:
			b.WriteRune(0x2400 + r) // the Control Pictures block: U+2400 is NUL's
		case r == 0x7f:
			b.WriteRune('\u2421') // ␡
		case 0x80 <= r && r < 0xa0, 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069, r == 0x2028, r == 0x2029:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// broadcast sends msg to every client except the sender, from.
//
// It writes while holding the lock, so the list cannot change under it. But a
// Write blocks once a client stops reading and its buffers fill up; then
// everybody waits for that one client. That is this stage's weakness.
func (s *Server) broadcast(from net.Conn, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendOthers(from, msg)
}

// sendOthers is broadcast for a caller that already holds mu. join, leave and
// rename use it to announce a change in the same locked step that makes it, so
// everybody hears of changes in the order they happened.
func (s *Server) sendOthers(from net.Conn, msg string) {
	for c := range s.clients {
		if c != from {
			c.Write([]byte(msg)) // if this fails, c's own goroutine sees it and says goodbye
		}
	}
}
