package main

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/chattest"
)

// Stage1's weakness: it serves ONE client. When that client leaves, Serve returns
// and closes the listener, so the next client is refused.
func TestHazardServesOnlyOneClient(t *testing.T) {
	ts := chattest.Start(t, NewServer)
	first := ts.Dial(t)
	first.Send("hello\n")
	require.Equal(t, "hello\n", first.ReadLine(), "the first client is served")
	first.Conn.Close()

	require.NoError(t, ts.Served(t), "Serve returns once its client has left")
	_, err := net.DialTimeout("tcp", ts.Addr, chattest.Wait)
	require.Error(t, err, "a second client could connect")
	require.True(t, errors.Is(err, syscall.ECONNREFUSED), "want connection refused, got %v", err)
}
