// Limits is the chat server of exercises/slow with what a server on an open
// network needs: limits on line length and on the number of clients, and an
// Accept loop that waits and tries again after an error that passes, such as
// too many open files.
//
//	go run ./exercises/limits/answer -max-clients 3 -max-line 100   # then: nc localhost 8888
package main

import (
	"flag"
	"log"
	"net"
	"os"
)

func main() {
	s := NewServer(log.Default())
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on")
	flag.IntVar(&s.MaxClients, "max-clients", s.MaxClients, "refuse clients beyond `n` at once")
	flag.IntVar(&s.MaxLine, "max-line", s.MaxLine, "refuse lines longer than `bytes`")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("limits: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if s.MaxClients < 1 || s.MaxLine < 1 {
		log.Printf("-max-clients and -max-line must be at least 1")
		flag.Usage()
		os.Exit(2)
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err) // for example: the port is already in use
	}
	log.Printf("listening on %s", l.Addr())
	if err := s.Serve(l); err != nil {
		log.Fatal(err)
	}
}
