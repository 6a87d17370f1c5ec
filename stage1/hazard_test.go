package main

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Stage1's weakness: it serves ONE client. When that client leaves, Serve returns
// and closes the listener, so the next client is refused.
func TestHazardServesOnlyOneClient(t *testing.T) {
	ts := startServer(t)
	first := dial(t, ts.addr)
	first.send("hello\n")
	require.Equal(t, "hello\n", first.readLine(), "the first client is served")
	first.conn.Close()

	select {
	case err := <-ts.served:
		require.NoError(t, err)
		ts.served <- err // for the cleanup
	case <-time.After(wait):
		t.Fatal("Serve kept going after its client left: that is stage2's lesson, not stage1's")
	}
	_, err := net.DialTimeout("tcp", ts.addr, wait)
	require.Error(t, err, "a second client could connect")
	require.True(t, errors.Is(err, syscall.ECONNREFUSED), "want connection refused, got %v", err)
}
