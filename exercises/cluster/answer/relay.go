package main

// The glue between one chat server and the room: NATS carries every line to every
// server that subscribes to the room's subject. NATS delivers each message at most
// once, and only to the subscribers connected at that moment: nothing is stored.

import (
	"bytes"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// subject is the room: every server publishes its clients' lines here and
// subscribes here for everybody else's.
const subject = "chatbook.room"

// maxMessage is the longest line we accept from another server: a client's line,
// plus the sender's address and server name in front. NATS may carry anything any
// program publishes on our subject; a server must not pass on what its own clients
// could never have sent.
const maxMessage = maxLine + 1024

// reconnectWait is how long the link waits between two tries to reach NATS again.
const reconnectWait = 250 * time.Millisecond

// Join connects s, under name, to the room on the NATS server (or cluster) at url:
// from then on, s publishes its clients' lines and passes on everybody else's.
// Call it once, before Serve.
func (s *Server) Join(url, name string) error {
	s.name = name
	s.linkClosed = make(chan struct{})
	nc, err := nats.Connect(url,
		nats.Name(name), // the broker's monitoring pages show who is connected
		// NATS sends a message to every subscriber, the publisher too when it
		// subscribes on the same connection. Our clients already had the line
		// from broadcast: without NoEcho they would get it twice.
		nats.NoEcho(),
		// The broker may restart. Try again for ever, not the default 60 times
		// (two minutes), after which the link would be closed for good while our
		// clients chatted on, alone, none the wiser.
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil when we closed it ourselves
				s.log.Printf("Lost NATS: %v; trying again every %v (lines said meanwhile wait, up to 8 MiB)", err, reconnectWait)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Printf("Back on NATS at %s; what other servers' clients said meanwhile may be lost", nc.ConnectedUrlRedacted())
		}),
		// Errors that do not break the link: above all, a slow consumer, when
		// messages came faster than our handler took them and some were dropped.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			s.log.Printf("NATS: %v", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(s.linkClosed) }),
	)
	if err != nil {
		return fmt.Errorf("joining the room on NATS at %s: %w", url, err)
	}
	if _, err := nc.Subscribe(subject, s.fromRoom); err != nil {
		nc.Close()
		return fmt.Errorf("subscribing to %s: %w", subject, err)
	}
	// Subscribe only sends a request; a round trip makes sure the broker has
	// it, so that from the moment Join returns we hear everything.
	if err := nc.Flush(); err != nil {
		nc.Close()
		return fmt.Errorf("subscribing to %s: %w", subject, err)
	}
	s.nc = nc
	s.log.Printf("Joined the room %s on NATS at %s as %s", subject, nc.ConnectedUrlRedacted(), name)
	return nil
}

// fromRoom is called by NATS, in one goroutine for our subscription, for every line
// another server published, in the order that server published them. It must be
// quick: while it runs, messages pile up in the client library, and past its limit
// (64 MiB) they are dropped. deliver only queues, so it is.
func (s *Server) fromRoom(m *nats.Msg) {
	line := m.Data
	if len(line) > maxMessage || !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
		s.log.Printf("Ignored a message on %s that is not one line of chat (%d bytes)", subject, len(line))
		return
	}
	s.deliver(string(line))
}

// publish sends msg to the other servers. It does not wait for them: the line is
// buffered and sent by the client library. While the link is down, up to 8 MiB
// wait in the library's buffer and go out when it is back; past that, publish
// fails and the line reaches this server's clients only.
func (s *Server) publish(msg string) {
	if s.nc == nil {
		return // not in a room: a chat server on its own, like slow's
	}
	if err := s.nc.Publish(subject, []byte(msg)); err != nil {
		s.log.Printf("Not sent to the other servers: %v", err)
	}
}

// leaveRoom closes the link to NATS, after sending what is still buffered, and
// waits for its last callback, so nothing of it outlives the server.
func (s *Server) leaveRoom() {
	if s.nc == nil {
		return
	}
	s.nc.Close()
	<-s.linkClosed
}
