package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// The plumbing (a server on a free port, test clients, the built program, nc) and
// the tests every echo server passes are in chattest, shared by the stages.

func TestMain(m *testing.M) { chattest.Main(m) }

func TestEcho(t *testing.T) { chattest.Echo(t, NewServer) }

// Stage2's lesson, which stage3 keeps: when a client leaves, the server serves the next.
func TestServesTheNextClient(t *testing.T) { chattest.ServesTheNextClient(t, NewServer) }

// Stage3's lesson: many clients are served at once, each by its own goroutine.
func TestServesClientsAtOnce(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	var clients []*chattest.Client
	for range 10 {
		clients = append(clients, ts.Dial(t))
	}
	for round := range 3 { // every client is answered while all the others stay connected
		for i, c := range clients {
			text := fmt.Sprintf("client %d, round %d\n", i, round)
			c.Send(text)
			require.Equal(t, text, c.ReadLine())
		}
	}
}

// Close hangs up on every client, not only on one, and makes Serve return.
func TestCloseHangsUpOnEveryone(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a, b := ts.Dial(t), ts.Dial(t)
	for _, c := range []*chattest.Client{a, b} {
		c.Send("hi\n")
		c.ReadLine()
	}
	ts.Server.Close()
	a.ReadEOF()
	b.ReadEOF()
	require.NoError(t, ts.Served(t), "Serve returns after Close")
}
