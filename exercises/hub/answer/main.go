// Hub is the chat server of stage5 with no mutex: one goroutine, the hub, owns the
// list of clients, and the others talk to it over channels. A client that stops
// reading fills its own channel, and the hub hangs up on it.
//
//	go run ./exercises/hub/answer      # then, in another terminal: nc localhost 8888
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
	log.SetPrefix("hub: ")
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
