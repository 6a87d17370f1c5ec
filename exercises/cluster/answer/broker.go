package main

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startBroker runs a NATS server inside this program, listening on addr, so that the
// chat runs on one machine with nothing else installed: other copies of the program
// join it with -nats. Port 0 means any free port, as with net.Listen.
func startBroker(addr string) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("NATS address %q: %v", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("NATS address %q: the port is not a number", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT // NATS says -1 for "any free port"; 0 would mean 4222
	} else {
		// An embedded NATS server without a logger says nothing when its port is
		// taken; it is just never ready. So try the port first, for a clear error.
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("cannot start NATS on %s: %w (is another copy running? join it with -nats nats://%s)", addr, err, addr)
		}
		l.Close()
	}
	ns, err := server.NewServer(&server.Options{
		Host:   host,
		Port:   port,
		NoSigs: true, // Ctrl+C is the program's business, not the broker's
		NoLog:  true,
	})
	if err != nil {
		return nil, err
	}
	ns.Start() // it serves in goroutines of its own
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("the NATS server on %s did not start (is the port in use?)", addr)
	}
	return ns, nil
}
