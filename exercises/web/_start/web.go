package main

// The chat in a browser. A web browser cannot open a TCP connection, but it can
// open a WebSocket: an HTTP request that asks to be "upgraded", after which the
// same TCP connection carries messages both ways. This file serves one page and
// one WebSocket endpoint, and turns each WebSocket into a net.Conn, so that the
// rest of the server (join, the log, the writer goroutine, the limits, the
// shutdown) treats a browser exactly as it treats nc: one room, two kinds of
// connection, one interface.

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// The page, built into the binary: the program needs no files beside it.
//
//go:embed index.html chat.css chat.js
var page embed.FS

// ServeWeb serves the page and its WebSocket endpoint, /chat, on l until Close or
// Shutdown is called, to at most maxConns HTTP connections at once (see
// pageListener). The browsers join the same room as the TCP clients: the
// WebSockets go through Serve, like the TCP connections, so the same limits,
// counts and shutdown apply to them. (maxConns is an argument, not a field of
// Server, because server.go is the one of complete, unchanged.)
func (s *Server) ServeWeb(l net.Listener, maxConns int) error {
	sockets := newSocketListener(l.Addr())
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(page)) // the three files, and 404 for anything else
	mux.HandleFunc("GET /chat", s.chat(sockets))
	hs := &http.Server{
		Handler:           headers(mux),
		ReadHeaderTimeout: 10 * time.Second, // a client that never finishes its request is hung up on
		IdleTimeout:       s.IdleTimeout,    // and one that keeps its connection open and says nothing, as nc is
		ErrorLog:          s.log,
		// A connection upgraded to a WebSocket is a chat client from then on:
		// Serve counts it with -max-clients and -max-per-addr, with nc users. It
		// gives its page slot back, so that a full room never locks the page.
		ConnState: func(c net.Conn, state http.ConnState) {
			if state == http.StateHijacked {
				c.(*pageConn).free() // hs.Serve(pl) below: every conn is a *pageConn
			}
		},
	}
	pl := newPageListener(l, maxConns, s.log)
	stop := context.AfterFunc(s.accepting, func() {
		hs.Close() // no more pages or upgrades; the WebSockets are the Server's now
		sockets.Close()
	})
	defer stop()

	var g errgroup.Group
	g.Go(func() error { return s.Serve(sockets) })
	g.Go(func() error {
		defer sockets.Close()
		if err := hs.Serve(pl); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	err := g.Wait()
	sockets.handlers.Wait() // requests half-way through their upgrade
	return err
}

// headers adds to every answer two fences for a page that shows what strangers
// type. The Content-Security-Policy lets the page run only the script file it came
// with: if a chat line ever got into the page as HTML, an onerror="..." in it
// still would not run. nosniff stops the browser from guessing a file's type.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// chat upgrades a request for /chat to a WebSocket and hands it to Serve.
//
// TODO: upgrade with websocket.Accept (github.com/coder/websocket), which checks
// the Origin header: read the sheet before you give it any options. Count the
// handler in with sockets.enter() first (and out with sockets.handlers.Done()).
// Turn the WebSocket into a net.Conn that behaves as a TCP connection does (the
// sheet says how it differs), and send it on sockets.conns, unless sockets.done
// is closed: then hang it up.
func (s *Server) chat(sockets *socketListener) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not written yet: see chat in web.go", http.StatusNotImplemented)
	}
}

// socketListener is a net.Listener whose connections are the WebSockets that the
// HTTP handler upgrades, so that Serve can take them as it takes TCP clients.
type socketListener struct {
	addr  net.Addr
	conns chan net.Conn // unbuffered: a socket is handed over only to a waiting Accept
	done  chan struct{} // closed by Close

	mu       sync.Mutex
	closed   bool
	handlers sync.WaitGroup // the handlers running: ServeWeb waits for them
}

func newSocketListener(addr net.Addr) *socketListener {
	return &socketListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *socketListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *socketListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	return nil
}

func (l *socketListener) Addr() net.Addr { return l.addr }

// enter counts a handler in, unless the listener is closed. Counting under the
// same lock as Close means no handler is counted after ServeWeb starts to wait.
func (l *socketListener) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.handlers.Add(1)
	return true
}

// pageListener lets at most cap(slots) connections at once into the HTTP server.
// Time alone does not bound them: a connection that sends nothing holds a
// goroutine and a file descriptor for ReadHeaderTimeout, one that sent a request
// holds them for IdleTimeout, and a flood of such connections could use up the
// process's descriptors; then the chat port's Accept would fail too, and nobody
// could join, by browser or by nc.
//
// What happens to one connection too many? It could wait in the kernel's backlog
// until a slot frees (that is what a listener that blocks in Accept does): it
// costs the process nothing, but a visitor would wait without a word for as long
// as the flood lasts. Here it is accepted, answered "503 Service Unavailable" with
// the reason, and hung up on at once, inside Accept: it costs a descriptor for a
// moment and no goroutine, and the visitor knows what happened. It is what the
// chat port does with a client too many: "server full", and goodbye.
//
// The limit is for the process's sake, not the visitors': one address may still
// take every slot, and then newcomers get 503 for as long as its flood lasts,
// while the room, the chat port and the browsers already in go on. A limit for
// each address, as Serve has, would be the next fence.
type pageListener struct {
	net.Listener
	slots   chan struct{} // a token for each connection let in
	refusal string        // the answer to a connection too many
	log     *log.Logger
}

func newPageListener(l net.Listener, maxConns int, logger *log.Logger) *pageListener {
	body := fmt.Sprintf("error: too many connections to the web page (the limit is %d); try again later\n", maxConns)
	refusal := "HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Connection: close\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	return &pageListener{Listener: l, slots: make(chan struct{}, maxConns), refusal: refusal, log: logger}
}

// Accept returns the next connection for which there is a slot, and refuses the
// ones that come while every slot is taken.
func (l *pageListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &pageConn{Conn: c, slots: l.slots}, nil
		default:
			l.refuse(c)
		}
	}
}

func (l *pageListener) refuse(c net.Conn) {
	defer c.Close()
	l.log.Printf("Refused a page connection from %s: %d at once already", c.RemoteAddr(), cap(l.slots))
	// A few hundred bytes into a new connection's empty socket buffer: the write
	// does not wait for the client to read. The deadline is a fence all the same,
	// since nothing else is accepted while we are here.
	c.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(c, l.refusal)
}

// pageConn is a connection that holds a slot of its pageListener until it is
// closed, or upgraded to a WebSocket, whichever comes first: an upgraded one is
// closed later too, and a slot given back twice would let one more in than the
// limit says, or block for ever. free gives it back exactly once.
type pageConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

func (c *pageConn) free() { c.once.Do(func() { <-c.slots }) }

func (c *pageConn) Close() error {
	c.free()
	return c.Conn.Close()
}
