package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"time"
)

// maxLine is the most bytes one line may take, its newline included. A longer line
// is refused with a message: with no limit, one client could eat all our memory.
const maxLine = 64 * 1024

// backlog is how many lines may wait in one client's channel. A channel is bounded
// in lines, not bytes, and its buffer is made whole at once (16 bytes a line: 16
// KiB a client). The lines are not copied: each channel holds the same strings,
// so a line costs its bytes once, however many clients it waits for.
const backlog = 1024

// grace is how long the hub waits for room in full channels before it hangs up on
// their clients. Meanwhile nobody hears anything: it is short, but long enough for
// a healthy client to catch up a little, even on a busy machine.
const grace = time.Second

// Server is a chat server: it passes each client's lines on to all the others.
// Tests start it on any net.Listener and stop it with Close.
//
// It has no mutex. The list of clients belongs to one goroutine, the hub, and lives
// in a local variable of hub(): no other goroutine can even see it. The others ask
// the hub to change it, or to pass a line on, by sending on these channels.
type Server struct {
	log    *log.Logger        // "Connected ADDR" and "Disconnected ADDR" go here
	ctx    context.Context    // cancelled by Close
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // the hub, Serve, and one for each client being served

	joins    chan *client // a new client, to put on the list
	leaves   chan *client // a client that has left, to take off the list
	messages chan message // a line to pass on to everybody but its sender
}

// message is a line for the hub to pass on.
type message struct {
	from *client // who sent it: it does not get its own line back
	text string  // the whole line, "ADDR: text\n"
}

// client is one connection and the channel of lines waiting to be written to it.
type client struct {
	conn net.Conn
	out  chan string   // the hub sends lines here, and closes it when c is off the list
	done chan struct{} // closed when c's writer has returned

	// dropped is set by the hub, before it closes out, when it hangs up on c.
	// c's reader looks at it only after done is closed, which comes after out is
	// closed: so the two never touch it at once, and no lock is needed.
	dropped bool
}

// NewServer returns a server that logs to logger. Its hub runs until Close.
func NewServer(logger *log.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		log: logger, ctx: ctx, cancel: cancel,
		joins:    make(chan *client),
		leaves:   make(chan *client),
		messages: make(chan message),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.hub()
	}()
	return s
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

// hub is the only goroutine that touches the list of clients. It does one thing
// at a time, in the order things reach it: a join, a leave, a line. So every
// client hears the lines in the same order, and no lock is needed.
//
// While it waits, nobody hears anything. So it never writes to a socket, and it
// waits on a client's channel only briefly: see broadcast.
func (s *Server) hub() {
	clients := map[*client]bool{}
	for {
		select {
		case c := <-s.joins:
			clients[c] = true
		case c := <-s.leaves:
			// A client the hub hung up on is off the list already, and its channel
			// is closed: closing it again would panic.
			if clients[c] {
				delete(clients, c)
				close(c.out) // the writer sends what is queued, then returns
			}
		case m := <-s.messages:
			s.broadcast(clients, m.from, m.text)
		case <-s.ctx.Done():
			for c := range clients {
				close(c.out) // Close has hung up on c; this ends its writer
			}
			return
		}
	}
}

// broadcast puts text in the channel of every client on the list but from.
//
// A full channel means its client is backlog lines behind. It may be busy for a
// moment (a burst of lines, a slow network), or it may have stopped reading for
// good. The hub cannot wait for ever (then one stuck client would stall everybody,
// as in stage5), nor hang up at once (then a burst would cost healthy clients
// their connection). So it waits a little, at most grace for all of them
// together, and hangs up on those whose channel is still full, telling the others.
func (s *Server) broadcast(clients map[*client]bool, from *client, text string) {
	var full []*client
	for c := range clients {
		if c == from {
			continue
		}
		select {
		case c.out <- text:
		default: // no room: come back to c below, after the others have it
			full = append(full, c)
		}
	}
	if len(full) == 0 {
		return
	}

	ctx, cancel := context.WithTimeout(s.ctx, grace) // one grace period for them all
	defer cancel()
	var stuck []*client
	for _, c := range full {
		select {
		case c.out <- text:
		case <-ctx.Done(): // still full after the grace period, or the server is closing
			stuck = append(stuck, c)
		}
	}
	if s.ctx.Err() != nil {
		return // Close hangs up on everybody anyway
	}
	for _, c := range stuck { // all off the list first, so the notices below skip them
		delete(clients, c)
		c.dropped = true // before close(c.out): see client
		close(c.out)
		c.conn.Close() // unblocks its writer, and ends its reader, which then leaves
	}
	for _, c := range stuck {
		why := fmt.Sprintf("not reading (%d lines waiting for over %v)", backlog, grace)
		s.log.Printf("Dropped %s: %s", c.conn.RemoteAddr(), why)
		s.broadcast(clients, nil, fmt.Sprintf("server: %s dropped: %s\n", c.conn.RemoteAddr(), why))
	}
}

// handle passes every line conn sends on to the hub until conn leaves. It reads;
// a second goroutine, c.write, does all the writing to conn.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	c := &client{conn: conn, out: make(chan string, backlog), done: make(chan struct{})}
	select {
	case s.joins <- c:
	case <-s.ctx.Done():
		return // the server is closing: its hub is gone, or going
	}
	go c.write() // only now: from here on the hub will close c.out, which ends it
	s.log.Printf("Connected %s", addr)

	sc := bufio.NewScanner(conn) // splits at \n and drops a \r before it: nc and telnet both work
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		select {
		case s.messages <- message{from: c, text: fmt.Sprintf("%s: %s\n", addr, sc.Bytes())}:
		case <-s.ctx.Done(): // Close has closed conn: the next Scan fails
		}
	}

	select {
	case s.leaves <- c:
	case <-s.ctx.Done(): // the hub closes every client's channel as it stops
	}
	<-c.done // the writer is finished: conn is ours alone again

	if c.dropped {
		// The hub hung up on us and has logged why ("Dropped ..."). Our read
		// failed only because the hub closed conn: "use of closed network
		// connection" would name the server's own act as the cause.
		s.log.Printf("Disconnected %s", addr)
		return
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

// write is c's writer goroutine: the only one that writes to c.conn while c is on
// the list. It sends the lines in its channel in order, until the hub closes it.
// Whatever has piled up meanwhile goes out in one Write: a client that is behind
// catches up with a few big writes instead of many small ones.
func (c *client) write() {
	defer close(c.done)
	var batch []byte
	for text := range c.out {
		batch = append(batch[:0], text...)
	more:
		for len(batch) < maxLine { // take what else is waiting, without waiting
			select {
			case text, ok := <-c.out:
				if !ok {
					break more // closed: send the batch; the range loop then ends
				}
				batch = append(batch, text...)
			default:
				break more
			}
		}
		if _, err := c.conn.Write(batch); err != nil {
			c.conn.Close() // gone, or hung up on: the reader stops too, and leaves
			for range c.out {
				// Take the lines that still come, until the reader's leave reaches the
				// hub and it closes c.out: the hub must never wait for a dead client.
			}
			return
		}
	}
}
