package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
)

// maxLine is the most bytes one line may take, its newline included. A longer line
// is refused with a message: with no limit, one client could eat all our memory.
const maxLine = 64 * 1024

// Server is a chat server: it passes each client's lines on to all the others.
// Tests start it on any net.Listener and stop it with Close.
type Server struct {
	log    *log.Logger        // "Connected ADDR" and "Disconnected ADDR" go here
	ctx    context.Context    // cancelled by Close
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // Serve, and one for each client being served

	// clients is everybody connected now. Every client's goroutine reads it and
	// writes it, AT THE SAME TIME AS THE OTHERS, WITH NO LOCK: A DATA RACE.
	// That is this stage's deliberate mistake; `go test -race` finds it.
	clients map[net.Conn]bool
}

// NewServer returns a server that logs to logger.
func NewServer(logger *log.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{log: logger, ctx: ctx, cancel: cancel, clients: map[net.Conn]bool{}}
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
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	s.join(conn)
	s.log.Printf("Connected %s", addr)

	sc := bufio.NewScanner(conn) // splits at \n and drops a \r before it: nc and telnet both work
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		s.broadcast(conn, fmt.Sprintf("%s: %s\n", addr, sc.Bytes()))
	}
	s.leave(conn)

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

// join adds conn to the client list.
func (s *Server) join(conn net.Conn) {
	s.clients[conn] = true // DATA RACE: another client may be broadcasting right now
}

// leave removes conn from the client list.
func (s *Server) leave(conn net.Conn) {
	delete(s.clients, conn) // DATA RACE: as in join
}

// broadcast sends msg to every client except the sender, from.
func (s *Server) broadcast(from net.Conn, msg string) {
	for c := range s.clients { // DATA RACE: another client may be joining right now
		if c != from {
			c.Write([]byte(msg)) // if this fails, c's own goroutine sees it and says goodbye
		}
	}
}
