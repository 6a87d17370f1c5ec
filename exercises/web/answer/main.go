// Web is the complete chat server with a web page: browsers that open the page
// (-http) and terminal clients (-addr) chat in one room, with the same limits.
// Only the lines marked "web" differ from exercises/complete/answer/main.go.
//
//	cd exercises/web && go run ./answer   # then open http://localhost:8080/ and: nc localhost 8888
//	cd exercises/web && go run ./answer -h # the limits, and their defaults
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// config is what the command line says: the server with its limits set, where
// to listen, and how long a shutdown may take.
type config struct {
	srv             *Server
	addr            string
	web             string // web: where the page for browsers listens (web.go)
	maxPageConns    int    // web: HTTP connections to the page at once (pageListener in web.go)
	shutdownTimeout time.Duration
}

// parseFlags reads the command line args into a config. The server logs to logger.
func parseFlags(args []string, logger *log.Logger, output io.Writer) (*config, error) {
	cfg := &config{srv: NewServer(logger)}
	s := cfg.srv
	fs := flag.NewFlagSet("web", flag.ContinueOnError) // web
	fs.SetOutput(output)
	fs.StringVar(&cfg.addr, "addr", "localhost:8888", "`host:port` to listen on")
	fs.StringVar(&cfg.web, "http", "localhost:8080", "`host:port` to serve the web page on") // web
	fs.IntVar(&cfg.maxPageConns, "max-page-conns", 1000,
		"answer 503 to HTTP connections to the page beyond `n` at once (a browser chatting counts in -max-clients instead)") // web
	fs.IntVar(&s.MaxClients, "max-clients", s.MaxClients, "refuse clients beyond `n` at once")
	fs.IntVar(&s.MaxPerAddr, "max-per-addr", s.MaxPerAddr, "refuse clients beyond `n` at once from one IP address")
	fs.IntVar(&s.MaxLine, "max-line", s.MaxLine, "refuse lines longer than `bytes`")
	fs.IntVar(&s.MaxQueue, "max-queue", s.MaxQueue,
		"drop a client that falls `bytes` behind; all the queues together take no more")
	fs.DurationVar(&s.IdleTimeout, "idle", s.IdleTimeout, "hang up on a client silent for this `long`")
	fs.DurationVar(&s.WriteTimeout, "write-timeout", s.WriteTimeout, "drop a client a write to which takes this `long`")
	fs.DurationVar(&s.Coalesce, "coalesce", s.Coalesce, "write to a client at most once in this `long`, so that lines go out together (0: at once)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 5*time.Second, "on Ctrl+C or SIGTERM, stop within this `long`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case s.MaxClients < 1 || s.MaxPerAddr < 1 || s.MaxLine < 1:
		return nil, errors.New("-max-clients, -max-per-addr and -max-line must be at least 1")
	case cfg.maxPageConns < 1: // web
		return nil, errors.New("-max-page-conns must be at least 1")
	case s.MaxQueue < 2*(s.MaxLine+maxName+3):
		return nil, fmt.Errorf("-max-queue must be at least %d bytes: twice a line of -max-line bytes with its name", 2*(s.MaxLine+maxName+3))
	case s.Coalesce < 0 || s.Coalesce > time.Second:
		return nil, errors.New("-coalesce must be between 0 and 1s")
	case s.IdleTimeout <= 0 || s.WriteTimeout <= 0 || cfg.shutdownTimeout <= 0:
		return nil, errors.New("-idle, -write-timeout and -shutdown-timeout must be more than 0")
	}
	return cfg, nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("web: ") // web
	cfg, err := parseFlags(os.Args[1:], log.Default(), os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Print(err)
		fmt.Fprintln(os.Stderr, "usage: web [flags]; web -h lists them") // web
		os.Exit(2)
	}

	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.Fatal(err) // for example: the port is already in use
	}
	log.Printf("listening on %s", l.Addr())
	hl, err := net.Listen("tcp", cfg.web) // web: the page and its WebSockets
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("web page on http://%s/", hl.Addr())

	// ctx ends on Ctrl+C or SIGTERM. Serving and shutting down run side by
	// side; if Serve fails, the group ends ctx, and the server shuts down too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cfg.srv.Serve(l) })
	g.Go(func() error { return cfg.srv.ServeWeb(hl, cfg.maxPageConns) }) // web
	g.Go(func() error {
		<-ctx.Done()
		stop() // a second Ctrl+C kills the program at once, as usual
		log.Print("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
		defer cancel()
		return cfg.srv.Shutdown(shutdownCtx)
	})
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
	log.Print("stopped")
}
