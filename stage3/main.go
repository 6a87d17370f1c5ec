// Stage3 is a TCP echo server that serves many clients at once, each in its own
// goroutine. They cannot talk to each other yet: each hears only its own echo.
//
//	go run ./stage3             # then, in another terminal: nc localhost 8888
package main

import (
	"flag"
	"log"
	"net"
	"os"
)

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("stage3: ")
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
	if err := NewServer(log.Default()).Serve(l); err != nil {
		log.Fatal(err)
	}
}
