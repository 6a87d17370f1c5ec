package main

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// quiet is how long a test listens for an answer that must NOT come. Nothing here
// makes it late: stage3 never sends one client's line to another at all.
const quiet = 300 * time.Millisecond

// Stage3's weakness: every client is served, but each hears only its own echo.
// A line that a sends never reaches b.
func TestHazardClientsCannotTalk(t *testing.T) {
	ts := startServer(t)
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	b.send("b is here\n")
	require.Equal(t, "b is here\n", b.readLine(), "b is being served")

	a.send("hello from a\n")
	require.Equal(t, "hello from a\n", a.readLine(), "a hears its own echo")

	b.send("anything for me?\n")
	require.Equal(t, "anything for me?\n", b.readLine(), "b's next line is its own echo, not a's line")
	require.NoError(t, b.conn.SetReadDeadline(time.Now().Add(quiet)))
	line, err := b.r.ReadString('\n')
	var netErr net.Error
	require.ErrorAs(t, err, &netErr, "b received %q", line)
	require.True(t, netErr.Timeout(), "b received nothing else")
}
