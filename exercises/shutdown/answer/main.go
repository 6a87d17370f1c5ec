// Shutdown is the chat server of exercises/presence that stops cleanly: a client
// may leave with /quit, and on Ctrl+C or SIGTERM the server tells everybody it is
// shutting down, hangs up, waits for all its goroutines and exits with status 0,
// even when a client has stopped reading.
//
//	go run ./exercises/shutdown/answer # then, in another terminal: nc localhost 8888
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// shutdownTimeout is how long a polite shutdown may take. After that the server
// hangs up on everybody at once and exits with an error.
const shutdownTimeout = 5 * time.Second

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("shutdown: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err) // for example: the port is already in use
	}
	log.Printf("listening on %s", l.Addr())
	srv := NewServer(log.Default())

	// ctx ends on Ctrl+C (os.Interrupt) or on SIGTERM, which is what kill and
	// service managers send. Without this, either signal kills us mid-sentence.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Two jobs run side by side: serving, and shutting down once ctx ends. The
	// group waits for both and returns the first error; if Serve fails, the
	// group ends ctx, so the second job shuts the server down too.
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(l) })
	g.Go(func() error {
		<-ctx.Done()
		stop() // from now on a second Ctrl+C kills the program at once, as usual
		log.Print("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
	log.Print("stopped")
}
