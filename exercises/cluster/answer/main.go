// Cluster is the chat server of the slow exercise, many times over: several copies,
// on one machine or many, share one room through NATS. A client of any copy talks
// to the clients of all of them.
//
//	cd exercises/cluster
//	go run ./answer                                                  # starts NATS inside, on localhost:4222
//	go run ./answer -addr localhost:8889 -nats nats://localhost:4222 # a second copy joins it
//	nc localhost 8888                                                # and one nc on each
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "localhost:8888", "`host:port` to listen on for chat clients")
	natsURL := flag.String("nats", "", "the NATS server or cluster to join, as a `URL` (nats://host:4222, or several with commas);\nempty: start a NATS server inside this program, on -nats-addr")
	natsAddr := flag.String("nats-addr", "localhost:4222", "with no -nats: `host:port` for the NATS server inside this program")
	name := flag.String("name", "", "this server's `name` in the room (default: server-PORT)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("cluster: ")
	if flag.NArg() > 0 {
		log.Printf("unexpected argument %q", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	// Listen first: a port in use is the likeliest mistake with a second copy.
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("%v (each copy needs a port of its own: choose another with -addr, for example -addr localhost:8889)", err)
	}
	if *name == "" {
		*name = "server-" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	}
	if *natsURL == "" {
		ns, err := startBroker(*natsAddr)
		if err != nil {
			log.Fatal(err)
		}
		defer ns.Shutdown()
		*natsURL = ns.ClientURL()
		log.Printf("NATS is running inside this program: other copies join with -nats %s", *natsURL)
	}

	s := NewServer(log.Default())
	if err := s.Join(*natsURL, *name); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); s.Close() }() // Ctrl+C: hang up, leave the room, stop NATS
	log.Printf("listening on %s as %s", l.Addr(), *name)
	if err := s.Serve(l); err != nil {
		log.Fatal(err)
	}
	s.Close() // Serve returned: wait until Close has finished too
}
