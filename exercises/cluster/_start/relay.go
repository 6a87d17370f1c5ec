package main

// The glue between this chat server and the room on NATS: write it here, and
// change server.go so that every line goes to the room as well. See the sheet.

import "errors"

// subject is the room: every server publishes its clients' lines here and
// subscribes here for everybody else's.
const subject = "chatbook.room"

// Join connects s, under name, to the room on the NATS server (or cluster) at url:
// from then on, s publishes its clients' lines, which read ADDR@NAME: text, and
// passes everybody else's on to its own clients. It is called once, before Serve;
// Close must leave the room too.
//
// To write: connect with nats.Connect and the options the sheet discusses,
// subscribe to subject, and make sure the broker has the subscription before
// returning. Then, in server.go: keep name and the connection in Server, publish
// in broadcast, and close the connection in Close.
func (s *Server) Join(url, name string) error {
	return errors.New("Join is not written yet")
}
