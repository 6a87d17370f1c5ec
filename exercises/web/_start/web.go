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
// Shutdown is called. The browsers join the same room as the TCP clients: the
// WebSockets go through Serve, like the TCP connections, so the same limits,
// counts and shutdown apply to them.
func (s *Server) ServeWeb(l net.Listener) error {
	sockets := newSocketListener(l.Addr())
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(page)) // the three files, and 404 for anything else
	mux.HandleFunc("GET /chat", s.chat(sockets))
	hs := &http.Server{
		Handler:           headers(mux),
		ReadHeaderTimeout: 10 * time.Second, // a client that never finishes its request is hung up on
		IdleTimeout:       s.IdleTimeout,    // and one that keeps its connection open and says nothing, as nc is
		ErrorLog:          s.log,
	}
	stop := context.AfterFunc(s.accepting, func() {
		hs.Close() // no more pages or upgrades; the WebSockets are the Server's now
		sockets.Close()
	})
	defer stop()

	var g errgroup.Group
	g.Go(func() error { return s.Serve(sockets) })
	g.Go(func() error {
		defer sockets.Close()
		if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
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
