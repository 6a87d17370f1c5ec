package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// The plumbing (a server on a free port, test clients, the built program, nc) and
// the tests every chat server passes are in chattest, shared by the stages.

func TestMain(m *testing.M) { chattest.Main(m) }

// Stage4's chat, which stage5 keeps: every line goes to every other client.
func TestChat(t *testing.T) { chattest.Chat(t, NewServer, (*Server).count) }

// Close hangs up on every client and makes Serve return.
func TestCloseHangsUp(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	a, b := ts.Join(t), ts.Join(t)
	ts.Server.Close()
	a.ReadEOF()
	b.ReadEOF()
	require.NoError(t, ts.Served(t), "Serve returns after Close")
}

// count is the number of clients on the server's list.
func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}
