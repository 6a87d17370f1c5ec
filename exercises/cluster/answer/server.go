package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// maxLine is the most bytes one line may take, its newline included. A longer line
// is refused with a message: with no limit, one client could eat all our memory.
const maxLine = 64 * 1024

// maxPending is how many bytes may wait to be sent to one client. It is generous on
// purpose: a healthy client that falls behind in a burst catches up again. Only a
// client that has stopped reading falls this far behind, and then it is dropped.
const maxPending = 64 << 20

// writeTimeout is how long one write to a client may take. A client whose socket
// accepts nothing for that long has stopped reading, even if little is waiting.
const writeTimeout = 10 * time.Second

// Server is one chat server of a room that may span many: it passes each client's
// lines on to its other clients and, through NATS, to the clients of every other
// server in the room. Tests start it on any net.Listener and stop it with Close.
type Server struct {
	log    *log.Logger        // "Connected ADDR" and "Disconnected ADDR" go here
	ctx    context.Context    // cancelled by Close
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // Serve, and one for each client being served

	// The room beyond this server, set once by Join before Serve starts, and
	// only read after that: no lock needed.
	name       string        // this server's name: lines read ADDR@NAME: text
	nc         *nats.Conn    // the connection to NATS, or nil before Join
	linkClosed chan struct{} // closed when nc is closed and its last callback has run

	// clients is everybody connected now. Many goroutines use it at once, so
	// every access holds mu: one goroutine at a time.
	mu      sync.Mutex
	clients map[*client]bool
}

// NewServer returns a server that logs to logger.
func NewServer(logger *log.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{log: logger, ctx: ctx, cancel: cancel, clients: map[*client]bool{}}
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

// Close stops the server, hangs up on every client, and waits for their goroutines;
// then it leaves the room. In that order: a client's last lines, and the notice that
// a client was dropped, still go out to the other servers.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
	s.leaveRoom()
}

// handle passes every line conn sends on to the other clients until conn leaves.
// It reads; a second goroutine, c.write, does all the writing to conn.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	c := newClient(conn)
	s.join(c)
	go c.write()
	defer c.stop()   // second: let the writer send what is left, and wait for it
	defer s.leave(c) // first: no more messages for c after this
	s.log.Printf("Connected %s", addr)

	sc := bufio.NewScanner(conn) // splits at \n and drops a \r before it: nc and telnet both work
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		s.broadcast(c, fmt.Sprintf("%s@%s: %s\n", addr, s.name, sc.Bytes()))
	}

	if why := c.droppedFor(); why != nil { // we hung up on it: tell the others why
		s.log.Printf("Dropped %s: %v", addr, why)
		s.broadcast(c, fmt.Sprintf("server: %s@%s dropped: %v\n", addr, s.name, why))
		return
	}
	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		c.send(fmt.Sprintf("error: line too long (the limit is %d bytes, newline included); goodbye\n", maxLine))
	}
	if err != nil {
		s.log.Printf("Disconnected %s: %v", addr, err)
		return
	}
	s.log.Printf("Disconnected %s", addr)
}

// join adds c to the client list.
func (s *Server) join(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c] = true
}

// leave removes c from the client list.
func (s *Server) leave(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
}

// broadcast sends msg to every client of this server except the sender, from, and
// publishes it to the other servers.
//
// It holds the lock, so the list cannot change under it, but it never touches a
// socket: it only adds msg to each client's queue, which takes no time at all. A
// client that stops reading fills its own queue and nobody else's.
//
// Publishing comes after the lock is released. Publish can wait: when the link to
// NATS is full, it waits for the socket like any Write. Under the lock, that wait
// would stop every client of this server, even those who only listen.
func (s *Server) broadcast(from *client, msg string) {
	s.mu.Lock()
	for c := range s.clients {
		if c != from {
			c.send(msg)
		}
	}
	s.mu.Unlock()
	s.publish(msg)
}

// deliver passes a line from another server to every client of this one.
func (s *Server) deliver(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.send(msg)
	}
}

// client is one connection and the bytes waiting to be written to it.
type client struct {
	conn net.Conn
	wake chan struct{} // holds a token when pending may have something; capacity 1
	quit chan struct{} // closed when the client has left: send what is left and stop
	done chan struct{} // closed by write when it returns

	mu      sync.Mutex // guards the fields below; broadcast and write both use them
	pending []byte     // waiting to be written, oldest first
	dropped error      // why the server hung up on this client, or nil
}

func newClient(conn net.Conn) *client {
	return &client{
		conn: conn,
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// send queues msg for c's writer and returns at once.
func (c *client) send(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped != nil {
		return
	}
	if len(c.pending)+len(msg) > maxPending {
		c.drop(fmt.Errorf("not reading: %d MiB waiting", maxPending>>20))
		return
	}
	c.pending = append(c.pending, msg...)
	select {
	case c.wake <- struct{}{}:
	default: // a token is there already: the writer will see msg with the rest
	}
}

// drop hangs up on c and records why. Closing the connection ends c's reader too,
// whose goroutine then tells the others. The caller holds c.mu.
func (c *client) drop(why error) {
	if c.dropped == nil {
		c.dropped = why
		c.conn.Close()
	}
}

// droppedFor returns why the server hung up on c, or nil if it did not.
func (c *client) droppedFor() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// write is c's writer goroutine: the only one that writes to c.conn. Each time it
// wakes up it takes everything pending and sends it in one Write, so a client that
// is behind catches up with a few big writes instead of many small ones.
func (c *client) write() {
	defer close(c.done)
	var batch []byte
	for {
		quitting := false
		select {
		case <-c.wake:
		case <-c.quit:
			quitting = true // one last round for what is still pending
		}

		c.mu.Lock()
		batch, c.pending = c.pending, batch[:0] // swap: broadcast fills the other buffer meanwhile
		c.mu.Unlock()

		if len(batch) > 0 {
			c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := c.conn.Write(batch); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					c.mu.Lock()
					c.drop(fmt.Errorf("not reading: a write took over %v", writeTimeout))
					c.mu.Unlock()
				}
				c.conn.Close() // gone or stuck: either way the reader stops too
				return
			}
			if cap(batch) > 1<<20 {
				batch = nil // after a burst: let the GC have this big buffer back
			}
		}
		if quitting {
			return
		}
	}
}

// stop tells the writer that c has left, and waits until it has sent what was
// pending (or given up) and returned.
func (c *client) stop() {
	close(c.quit)
	<-c.done
}
