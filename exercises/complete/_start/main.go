// Complete is the chat server you would run for strangers. This is where it
// starts: the program of the limits exercise, with its command line read by
// parseFlags, so that the tests can set the server up as the command line would.
//
//	go run ./mine/complete -h    # the flags
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"
)

// config is what the command line says: the server with its limits set, where
// to listen, and how long a shutdown may take.
type config struct {
	srv             *Server
	addr            string
	shutdownTimeout time.Duration
}

// parseFlags reads the command line args into a config. The server logs to
// logger; usage and flag errors go to output.
//
// TODO: the flags -max-per-addr, -max-queue, -idle, -write-timeout and
// -shutdown-timeout (see the sheet), each checked like the others.
func parseFlags(args []string, logger *log.Logger, output io.Writer) (*config, error) {
	cfg := &config{srv: NewServer(logger), shutdownTimeout: 5 * time.Second}
	s := cfg.srv
	fs := flag.NewFlagSet("complete", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&cfg.addr, "addr", "localhost:8888", "`host:port` to listen on")
	fs.IntVar(&s.MaxClients, "max-clients", s.MaxClients, "refuse clients beyond `n` at once")
	fs.IntVar(&s.MaxLine, "max-line", s.MaxLine, "refuse lines longer than `bytes`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case s.MaxClients < 1 || s.MaxLine < 1:
		return nil, errors.New("-max-clients and -max-line must be at least 1")
	}
	return cfg, nil
}

// TODO: stop on Ctrl+C and SIGTERM with Shutdown, as in the shutdown exercise.
func main() {
	log.SetFlags(0)
	log.SetPrefix("complete: ")
	cfg, err := parseFlags(os.Args[1:], log.Default(), os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Print(err)
		fmt.Fprintln(os.Stderr, "usage: complete [flags]; complete -h lists them")
		os.Exit(2)
	}

	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.Fatal(err) // for example: the port is already in use
	}
	log.Printf("listening on %s", l.Addr())
	if err := cfg.srv.Serve(l); err != nil {
		log.Fatal(err)
	}
}
