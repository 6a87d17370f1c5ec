package main

import (
	"bufio"
	"context"
	"crypto/tls"
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

// handshakeTimeout is how long a client has to finish its TLS handshake.
const handshakeTimeout = 10 * time.Second

// Server is a chat server: it passes each client's lines on to all the others.
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

// handle passes every line conn sends on to the other clients until conn leaves.
func (s *Server) handle(conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() }) // Close hangs up on us too
	defer stop()
	addr := conn.RemoteAddr()
	if err := s.handshake(conn); err != nil {
		s.log.Printf("TLS handshake with %s failed: %v", addr, err)
		return
	}
	s.join(conn)
	defer s.leave(conn)
	s.log.Printf("Connected %s", addr)

	sc := bufio.NewScanner(conn) // splits at \n and drops a \r before it: nc and telnet both work
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		s.broadcast(conn, fmt.Sprintf("%s: %s\n", addr, sc.Bytes()))
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

// handshake makes a TLS connection finish its handshake before it joins the chat.
//
// Left alone, a tls.Conn does its handshake during its first Read or Write.
// If that first Write were a broadcast's, everybody would wait, lock held, for
// a client that may never answer: a plain-TCP client, or nobody at all. So we
// do it here, with a time limit, and only a finished handshake joins.
func (s *Server) handshake(conn net.Conn) error {
	tlsConn, ok := conn.(*tls.Conn)
	if !ok {
		return nil // not TLS: nothing to wait for
	}
	ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout) // Close stops it too
	defer cancel()
	err := tlsConn.HandshakeContext(ctx)

	// The first bytes did not look like TLS at all: nc or telnet, most likely.
	// tls lends us the raw connection to say so in words they can read.
	var notTLS tls.RecordHeaderError
	if errors.As(err, &notTLS) && notTLS.Conn != nil {
		fmt.Fprintln(notTLS.Conn, "error: this server speaks TLS only; connect with -connect and -ca")
	}
	return err
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

// broadcast sends msg to every client except the sender, from.
//
// It writes while holding the lock, so the list cannot change under it. But a
// Write blocks once a client stops reading and its buffers fill up; then
// everybody waits for that one client. That is this stage's weakness.
func (s *Server) broadcast(from net.Conn, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		if c != from {
			c.Write([]byte(msg)) // if this fails, c's own goroutine sees it and says goodbye
		}
	}
}
