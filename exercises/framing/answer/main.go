// Framing is the chat server of stage5 with each message in a frame instead of on
// a line: its length goes in front of it, so a message may hold any bytes at all,
// newlines included, up to 1 MiB.
//
//	go run ./exercises/framing/answer            # the server, on localhost:10000
//	go run ./exercises/framing/answer -client    # a client: type messages, see the others'
package main

import (
	"flag"
	"log"
	"net"
	"os"
)

func main() {
	addr := flag.String("addr", "localhost:10000", "`host:port` to listen on (with -client: to connect to)")
	client := flag.Bool("client", false, "be a client: send each line you type as one message, print each message that arrives")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("framing: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	if *client {
		if err := runClient(*addr, os.Stdin, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
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
