package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
)

// Server is a chat server: it passes each client's messages on to all the others:
// one frame in, the same frame out (see frame.go). It adds nothing to a message, not
// even the sender's address: a message may be any bytes, a picture say, and text
// glued onto them would change them, and could push a message over the limit.
// Tests start it on any net.Listener and stop it with Close.
type Server struct {
	log    *log.Logger        // "Connected ADDR" and "Disconnected ADDR" go here
	ctx    context.Context    // cancelled by Close
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // Serve, and one for each client being served

	// clients is everybody connected now. Many goroutines use it at once, so
	// every access holds mu: one goroutine at a time.
	mu      sync.Mutex
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

// handle passes every message conn sends on to the other clients until conn leaves.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	s.join(conn)
	defer s.leave(conn)
	s.log.Printf("Connected %s", addr)

	r := bufio.NewReader(conn) // fewer system calls: ReadFrame asks for 4 bytes, then for the rest
	for {
		msg, err := ReadFrame(r, maxFrame)
		if err == io.EOF {
			s.log.Printf("Disconnected %s", addr) // it left between two messages: all is well
			return
		}
		if errors.Is(err, ErrFrameTooLarge) {
			// Tell the client why, in the one form it can read: a frame.
			WriteFrame(conn, fmt.Appendf(nil, "error: %v; goodbye", err))
		}
		if err != nil {
			s.log.Printf("Disconnected %s: %v", addr, err) // for example: it vanished mid-message
			return
		}
		s.broadcast(conn, msg)
	}
}

// join adds conn to the client list.
func (s *Server) join(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[conn] = true
}

// leave removes conn from the client list.
func (s *Server) leave(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, conn)
}

// broadcast sends msg, framed, to every client except the sender, from.
//
// It writes while holding the lock, so the list cannot change under it. But a
// Write blocks once a client stops reading and its buffers fill up; then
// everybody waits for that one client. That is this stage's weakness.
func (s *Server) broadcast(from net.Conn, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		if c != from {
			WriteFrame(c, msg) // if this fails, c's own goroutine sees it and says goodbye
		}
	}
}
